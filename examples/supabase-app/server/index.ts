import express from "express";
import rateLimit from "express-rate-limit";
import { createClient } from "@supabase/supabase-js";

const app = express();
app.use(express.json());

const limiter = rateLimit({
  windowMs: 15 * 60 * 1000,
  limit: 100,
  standardHeaders: "draft-7",
  legacyHeaders: false,
});
app.use("/api", limiter);

const admin = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_SERVICE_ROLE!);

app.post("/api/notes", async (req, res) => {
  const { data, error } = await admin.from("notes").insert({ body: req.body.body }).select().single();
  if (error) return res.status(400).json({ error: error.message });
  return res.status(201).json(data);
});

app.listen(Number(process.env.PORT ?? 3000));
