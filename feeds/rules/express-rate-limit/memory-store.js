const express = require("express");
const RateLimit = require("express-rate-limit");
const MongoStore = require("rate-limit-mongo");

const app = express();

// ruleid: express-rate-limit/memory-store
const limiter = new RateLimit({ windowMs: 15 * 60 * 1000, max: 100 });

// ok: express-rate-limit/memory-store
const mongoLimiter = new RateLimit({ store: new MongoStore({ uri: process.env.MONGO_URL }), max: 100 });

// ok: express-rate-limit/memory-store
const unrelated = rateLimiter({ points: 10 });

app.use(limiter, mongoLimiter, unrelated);
