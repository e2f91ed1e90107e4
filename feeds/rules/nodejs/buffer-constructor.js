const crypto = require("node:crypto");

function encode(text) {
  // ruleid: nodejs/buffer-constructor
  return new Buffer(text, "utf8").toString("base64");
}

function pad(size) {
  // ruleid: nodejs/buffer-constructor
  const buf = Buffer(size);
  buf.fill(0);
  return buf;
}

// ok: nodejs/buffer-constructor
const a = Buffer.from("hello", "utf8");
// ok: nodejs/buffer-constructor
const b = Buffer.alloc(16);
// ok: nodejs/buffer-constructor
const isBuf = Buffer.isBuffer(a) && isBuffer(b);
// ok: nodejs/buffer-constructor
const safe = new SafeBuffer(8);
// ok: nodejs/buffer-constructor
// const legacy = new Buffer(10);

module.exports = { encode, pad, a, b, isBuf, safe, digest: crypto.createHash("sha256") };
