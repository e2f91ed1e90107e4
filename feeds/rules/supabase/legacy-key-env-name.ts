import { createClient } from "@supabase/supabase-js";

export const supabase = createClient(
  process.env.NEXT_PUBLIC_SUPABASE_URL!,
  // ruleid: supabase/legacy-key-env-name
  process.env.NEXT_PUBLIC_SUPABASE_ANON_KEY!,
);

// ruleid: supabase/legacy-key-env-name
const serviceKey = import.meta.env.SUPABASE_SERVICE_KEY;

// ok: supabase/legacy-key-env-name
export const modern = createClient(process.env.SUPABASE_URL!, process.env.SUPABASE_PUBLISHABLE_KEY!);
// ok: supabase/legacy-key-env-name
const supabaseAnonymousSignIns = true;
