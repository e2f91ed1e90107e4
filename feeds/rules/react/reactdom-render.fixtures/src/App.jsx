export default function App() {
  // ok: react/reactdom-render
  return <main>render me</main>;
}
