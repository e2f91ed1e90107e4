import { createClient } from "@supabase/supabase-js";

const url = "https://abcdefghijklmnopqrst.supabase.co";
// ruleid: supabase/legacy-api-key
const anonKey = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3BxcnN0Iiwicm9sZSI6ImFub24iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MjAwMDAwMDAwMH0.ZmFrZS1zaWduYXR1cmUtZm9yLWVjb3dhdGNoLWZpeHR1cmVz";
// ok: supabase/legacy-api-key
const publishableKey = "sb_publishable_ecowatchFixture0000000000_abcd1234";
// ok: supabase/legacy-api-key
const fromEnv = process.env.SUPABASE_PUBLISHABLE_KEY!;

export const supabase = createClient(url, publishableKey ?? fromEnv ?? anonKey);

export const admin = createClient(url, process.env.SUPABASE_SECRET_KEY!, {
  // ruleid: supabase/legacy-api-key
  global: { headers: { Authorization: "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3BxcnN0Iiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoyMDAwMDAwMDAwfQ.bm90LWEtcmVhbC1zaWduYXR1cmUtZWNvd2F0Y2gtZml4dHVyZQ" } },
});
