// Preloaded into the Cache Forge process by `pnpm bench:helm` (node --import). Every 100 ms it
// appends the worst event-loop delay of that interval to the file CF_BENCH_LOOP_DELAY names, as
// `<unix ms> <max ms>`, so the benchmark can report the worst stall of each phase; with
// CF_BENCH_STALLS it also appends each turn of 30 ms or more as `<start µs> <end µs> <unix ms at end> <ms on a CPU> <ms waiting for one>`
// (the main thread's, from /proc/thread-self/schedstat: a busy machine stalls a loop that has no work),
// the first two on the monotonic clock a CPU profile uses, so stalls.mjs can say what ran in it. It changes nothing
// else in the process (its timers are unref'd).
import { appendFileSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.CF_BENCH_LOOP_DELAY;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  setInterval(() => {
    appendFileSync(file, `${Date.now()} ${(histogram.max / 1e6).toFixed(2)}\n`);
    histogram.reset();
  }, 100).unref();
}
const stalls = process.env.CF_BENCH_STALLS;
if (stalls) {
  const TICK_MS = 5;
  let last = process.hrtime.bigint();
  let lastSched = schedstat();
  setInterval(() => {
    const now = process.hrtime.bigint();
    const sched = schedstat();
    if (now - last > BigInt((30 + TICK_MS) * 1e6)) {
      const ms = (a, b) => (Number(a - b) / 1e6).toFixed(1);
      appendFileSync(stalls, `${last / 1000n} ${now / 1000n} ${Date.now()} ${ms(sched[0], lastSched[0])} ${ms(sched[1], lastSched[1])}\n`);
    }
    last = now;
    lastSched = sched;
  }, TICK_MS).unref();
}

/** This thread's time on a CPU and waiting for one (ns), from the kernel's scheduler statistics. */
function schedstat() {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ');
    return [BigInt(run), BigInt(wait)];
  } catch {
    return [0n, 0n];
  }
}
