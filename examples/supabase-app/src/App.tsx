import { useEffect, useState } from "react";
import moment from "moment";
import { supabase } from "./supabaseClient";

type Note = { id: number; body: string; created_at: string };

export default function App() {
  const [notes, setNotes] = useState<Note[]>([]);

  useEffect(() => {
    supabase
      .from("notes")
      .select("id, body, created_at")
      .order("created_at", { ascending: false })
      .then(({ data }) => setNotes(data ?? []));
  }, []);

  return (
    <main className="mx-auto max-w-xl p-6">
      <h1 className="text-2xl font-semibold">Notes</h1>
      <ul className="mt-4 space-y-2">
        {notes.map((n) => (
          <li key={n.id} className="rounded border p-3">
            <p>{n.body}</p>
            <time className="text-sm text-slate-500">{moment(n.created_at).fromNow()}</time>
          </li>
        ))}
      </ul>
    </main>
  );
}
