export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <head>
        {/* ruleid: tailwind/play-cdn */}
        <script src="https://cdn.tailwindcss.com" />
        {/* ruleid: tailwind/play-cdn */}
        <script src={"https://cdn.jsdelivr.net/npm/@tailwindcss/browser@4"} async />
        {/* ok: tailwind/play-cdn */}
        {/* <script src="https://cdn.tailwindcss.com" /> */}
        {/* ok: tailwind/play-cdn */}
        <link rel="stylesheet" href="/styles.css" />
      </head>
      <body>{children}</body>
    </html>
  );
}
