import express from "express";
import { rateLimit } from "express-rate-limit";
import { RedisStore } from "rate-limit-redis";
import { createClient } from "redis";

const app = express();

// ruleid: express-rate-limit/memory-store
const apiLimiter = rateLimit({
  windowMs: 15 * 60 * 1000,
  limit: 100,
  standardHeaders: "draft-8",
  legacyHeaders: false,
});

// ruleid: express-rate-limit/memory-store
app.use("/login", rateLimit({ windowMs: 60_000, limit: 5 }));

// ruleid: express-rate-limit/memory-store
app.use("/health", rateLimit());

const redis = createClient({ url: process.env.REDIS_URL });

// ok: express-rate-limit/memory-store
const sharedLimiter = rateLimit({
  windowMs: 15 * 60 * 1000,
  limit: 100,
  store: new RedisStore({ sendCommand: (...args: string[]) => redis.sendCommand(args) }),
});

const store = new RedisStore({ prefix: "rl:", sendCommand: (...args: string[]) => redis.sendCommand(args) });
// ok: express-rate-limit/memory-store
const shorthand = rateLimit({ windowMs: 60_000, limit: 20, store });

// ok: express-rate-limit/memory-store
// const old = rateLimit({ windowMs: 60_000 });

app.use("/api", apiLimiter, sharedLimiter, shorthand);
