// Pause as a gate at safe boundaries (STYLE §5): closed = paused. wait() resolves when the gate is
// open and rejects when the signal aborts, so a paused job can still be cancelled. Shared by the
// backup queue and the restore job.
export class PauseGate {
  private opened: Promise<void> = Promise.resolve();
  private release?: () => void;
  get paused(): boolean {
    return this.release !== undefined;
  }
  close(): void {
    if (this.release) return;
    this.opened = new Promise<void>((resolve) => (this.release = resolve));
  }
  open(): void {
    const release = this.release;
    this.release = undefined;
    release?.();
  }
  async wait(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!this.release) return;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      void this.opened.then(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}
