// Preload for benchmarks: prints the process's peak resident memory on exit.
process.on("exit", () => process.stderr.write(`maxRssKb=${process.resourceUsage().maxRSS}\n`));
