// The one render scheduler: any change calls request(); the screen is drawn at most once per
// interval (100 ms = 10 fps), and not at all when nothing asked. No timer runs while idle.

export interface RenderScheduler {
  request(): void;
  /** draw now if something is pending (before exit, after a resize) */
  flush(): void;
  stop(): void;
  readonly renders: number;
}

export function createRenderScheduler(render: () => void, minIntervalMs = 100, now: () => number = Date.now): RenderScheduler {
  let timer: NodeJS.Timeout | undefined;
  let last = -Infinity;
  let renders = 0;
  let stopped = false;
  const run = () => {
    timer = undefined;
    if (stopped) return;
    last = now();
    renders++;
    render();
  };
  return {
    request() {
      if (stopped || timer) return;
      timer = setTimeout(run, Math.max(0, last + minIntervalMs - now()));
    },
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
