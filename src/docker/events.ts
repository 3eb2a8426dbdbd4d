// Docker's event stream for a live view: onChange for every container, volume or network event.
// After an error or the end of the stream it reconnects after a pause; only then is a timer armed,
// so nothing polls while the engine is quiet.
import type Docker from 'dockerode';

const RECONNECT_MS = 3000;

/** Follow the engine's events until the returned stop function is called. */
export function watchDockerEvents(docker: Docker, onChange: () => void, onError: (err: Error) => void): () => void {
  let stopped = false;
  let stream: NodeJS.ReadableStream | undefined;
  let retry: NodeJS.Timeout | undefined;
  const destroy = (s: NodeJS.ReadableStream | undefined) =>
    (s as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  const connect = () => {
    if (stopped) return;
    docker.getEvents({ filters: { type: ['container', 'volume', 'network'] } }).then(
      (s) => {
        if (stopped) return destroy(s);
        stream = s;
        s.on('data', () => onChange());
        const again = (err?: Error) => {
          if (stopped) return;
          if (err) onError(err);
          retry = setTimeout(connect, RECONNECT_MS);
        };
        s.on('error', again);
        s.on('end', () => again());
      },
      (err: Error) => {
        onError(err);
        if (!stopped) retry = setTimeout(connect, RECONNECT_MS);
      },
    );
  };
  connect();
  return () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    destroy(stream);
  };
}
