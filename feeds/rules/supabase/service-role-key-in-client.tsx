"use client";
import { createClient } from "@supabase/supabase-js";

// ruleid: supabase/service-role-key-in-client
const key = process.env.NEXT_PUBLIC_SUPABASE_SERVICE_ROLE_KEY!;
// ruleid: supabase/service-role-key-in-client
const hardcoded = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3BxcnN0Iiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoyMDAwMDAwMDAwfQ.bm90LWEtcmVhbC1zaWduYXR1cmUtZWNvd2F0Y2gtZml4dHVyZQ";
// ok: supabase/service-role-key-in-client
const publishable = process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY!;
// A legacy anon key is public by design (supabase/legacy-api-key reports it).
// ok: supabase/service-role-key-in-client
const anon = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZSIsInJlZiI6ImFiY2RlZmdoaWprbG1ub3BxcnN0Iiwicm9sZSI6ImFub24iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MjAwMDAwMDAwMH0.ZmFrZS1zaWduYXR1cmUtZm9yLWVjb3dhdGNoLWZpeHR1cmVz";

export function Admin() {
  const supabase = createClient(process.env.NEXT_PUBLIC_SUPABASE_URL!, key ?? hardcoded ?? publishable ?? anon);
  return <pre>{String(!!supabase)}</pre>;
}
