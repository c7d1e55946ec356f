import { Presets, SingleBar } from 'cli-progress';

/** How a long operation shows where it is: a bar on a terminal, plain lines for logs and scripts. */
export interface ProgressView {
  update(step: string, percent: number): void;
  stop(): void;
}

/**
 * A bar (on stderr) only when stdout is a terminal a person watches; otherwise one line per
 * change of step or percent, on stderr too, so stdout keeps only the result (`-o json`).
 */
export function progressView(label: string, interactive: boolean, err: NodeJS.WritableStream): ProgressView {
  if (!interactive) {
    let last = '';
    return {
      update(step, percent) {
        const line = `${label}: ${step} ${percent}%`;
        if (line !== last) err.write(`${line}\n`);
        last = line;
      },
      stop() {},
    };
  }
  const bar = new SingleBar({ format: `${label} {bar} {percentage}% | {step}`, hideCursor: true, stream: err, clearOnComplete: false }, Presets.shades_classic);
  let started = false;
  return {
    update(step, percent) {
      if (!started) bar.start(100, percent, { step });
      else bar.update(percent, { step });
      started = true;
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
