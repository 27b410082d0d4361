/** `node bench/run.js --help`: every flag, with `sections` the names `--only` takes. */
export function usage(sections) {
  return `usage: node bench/run.js [--quick] [--only ${sections.join(',')}] [--soak] [--drain-events N] [--profile]
  --quick           ~2-minute smoke run (short rounds, 100k-event drain; numbers not comparable)
  --only a,b        run only these sections (xadd, the Node-client reference, runs with batch/e2e;
                    the ceiling is read first and last whenever a section is a ratio to it)
  --soak            also run the 10-minute RSS soak (skipped by default)
  --drain-events N  backlog size of the drain benchmark (default 1,000,000)
  --drain-pack N    events per stream entry in the drain's backlog (default 500, as batch ingest stores them)
  --drain-consumers N  also drain with a consumer node of N processes (PAYFLUX_WORKERS=N), alternating
                    with one process for --drain-rounds N pairs (default 2; each reports its median)
  --backtest-events N  events in the backtest file (default 1,000,000)
  --profile         run each PayFlux child with --cpu-prof into bench/results/profiles.tmp/
  --keep-work-dir   leave the work dir (children's logs, export files) in place, and say where
  --connections N, --pipelining N     single-event load (default 100, 1)
  --batch-connections N               concurrent batch requests (default 8)
  --soak-seconds N, --soak-rate N     soak length (default 600) and event rate (default 70 % of
                                      this run's end-to-end rate, or 30000 without e2e)
  --wait-quiet N    wait up to N s for other processes to leave the CPUs idle before starting
  --e2e-split       also run end-to-end with ingest and consumer as two processes (what-if)
  --e2e-workers N   end to end also with PAYFLUX_WORKERS=N (one command: supervisor, N-1 ingest
                    workers, 1 consumer), alternating with one process (default 2; 1: one process only)
  --e2e-rounds N    rounds of that alternation (default 2; each variant reports its median)
  --env KEY=VALUE   extra environment for every PayFlux child (repeatable), for what-if runs,
                    e.g. --env PAYFLUX_READ_COUNT=2000 --env PAYFLUX_STREAM_MAXLEN=0
  --latency-trace   the latency section also records where its slowest requests' time went
                    (CPU, waiting for a CPU, GC: a probe inside PayFlux; bench/README.md)
  --node-arg FLAG   extra Node flag for every PayFlux \`serve\` child (repeatable; its stdout then
                    goes to the child's log), e.g. --node-arg=--trace-gc --keep-work-dir
  --node PATH       Node binary for every Node child (PayFlux, the baseline servers, risk.mjs,
                    floors.mjs, backtest); the load generator stays on the Node running this script
  --out NAME        write bench/results/NAME.json and NAME.md instead of latest.*
  --max-minutes N   stop everything and exit 1 after N minutes (default 30, plus the soak)`;
}
