export function toBase64(input: string): string {
  // ruleid: nodejs/buffer-constructor
  const raw = new Buffer(input);
  // ok: nodejs/buffer-constructor
  const ok = Buffer.from(input);
  // ok: nodejs/buffer-constructor
  const typed: Buffer = Buffer.alloc(4);
  return raw.toString("base64") + ok.toString("base64") + typed.length;
}
