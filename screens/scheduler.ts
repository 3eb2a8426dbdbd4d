// The one render scheduler: any change calls request(); the screen is drawn at most once per
// interval and not at all when nothing asked, so no timer runs while idle. Data (progress events,
// the rate sampler) redraws at most 5 times a second, which keeps drawing to a few percent of a
// busy job; a key press redraws within ~30 ms so typing never feels late (still <= 10 fps on
// average, as both share one timer).

export interface RenderScheduler {
  /** a data change: drawn within `dataMs` */
  request(): void;
  /** user input: drawn within `inputMs` */
  requestSoon(): void;
  /** draw now if something is pending (before exit, after a resize) */
  flush(): void;
  stop(): void;
  readonly renders: number;
}

export function createRenderScheduler(
  render: () => void,
  dataMs = 200,
  now: () => number = Date.now,
  inputMs = 30,
): RenderScheduler {
  let timer: NodeJS.Timeout | undefined;
  let due = Infinity;
  let last = -Infinity;
  let renders = 0;
  let stopped = false;
  const run = () => {
    timer = undefined;
    due = Infinity;
    if (stopped) return;
    last = now();
    renders++;
    render();
  };
  const schedule = (minGap: number) => {
    if (stopped) return;
    const at = Math.max(now(), last + minGap);
    if (timer && at >= due) return;
    if (timer) clearTimeout(timer);
    due = at;
    timer = setTimeout(run, Math.max(0, at - now()));
  };
  return {
    request: () => schedule(dataMs),
    requestSoon: () => schedule(inputMs),
    flush() {
      if (timer) clearTimeout(timer);
      run();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
    get renders() {
      return renders;
    },
  };
}
