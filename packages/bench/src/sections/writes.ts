// The event log's group-committing writer on a libsql file: events/s by concurrent callers.
import { benchEventAppends } from "@glm-workers/db/bench";
import type { BenchContext } from "../context.ts";

export default async function writes(ctx: BenchContext): Promise<void> {
  const { report } = ctx;
  report.heading(2, "Event log writes (group-committing writer, libsql file)");
  report.paragraph(
    "Concurrent callers append events through the one writer; every caller's await resolves after its batch's transaction committed. *avg batch* is events per transaction.",
  );
  const rows: (string | number)[][] = [];
  const points: { series: string; x: number; y: number }[] = [];
  const cases = [
    [1, 1],
    [16, 1],
    [64, 1],
    [256, 1],
    [16, 20],
  ] as const;
  for (const [callers, perCall] of cases) {
    const r = await benchEventAppends({
      callers,
      eventsPerCall: perCall,
      totalEvents: (callers === 1 ? 2000 : 20000) / (ctx.quick ? 10 : 1),
    });
    rows.push([
      callers,
      perCall,
      r.events,
      r.eventsPerSec.toFixed(0),
      r.avgBatch.toFixed(1),
      r.persisted,
    ]);
    if (perCall === 1) points.push({ series: "1 event per call", x: callers, y: r.eventsPerSec });
  }
  report.table(["callers", "events/call", "events", "events/s", "avg batch", "persisted"], rows);
  await report.curveChart(
    "writes-callers",
    "Event appends per second by concurrent callers",
    points,
    {
      xTitle: "concurrent callers",
      yTitle: "events/s",
      logX: true,
    },
  );
}
