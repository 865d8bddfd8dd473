/**
 * systemd readiness and watchdog (Type=notify, WatchdogSec=).
 *
 * sd_notify is a datagram on the unix socket named by $NOTIFY_SOCKET. Node
 * has no unix datagram sockets and a native addon for four messages is not
 * worth a build step on the Pi, so this runs the `systemd-notify` binary
 * (always present where systemd is). Its messages come from a child PID, so
 * the unit sets NotifyAccess=all; systemd-notify (>= 246) waits for the
 * manager to process the message before it exits, so the child's
 * credentials are still resolvable to our cgroup. Without $NOTIFY_SOCKET
 * (not under systemd) everything here is a no-op.
 *
 * The watchdog ping is sent at half of $WATCHDOG_USEC from a timer on the
 * event loop, and only while `healthy()` says so: a blocked loop or a dead
 * store stops the pings and systemd restarts us (Restart=always).
 */
import { execFile } from 'node:child_process';

export interface SdNotify {
  ready(status?: string): void;
  stopping(): void;
  status(text: string): void;
  readonly watchdogMs: number | null;
  stop(): void;
}

export function sdNotify(opts: { healthy?: () => boolean; onError?: (e: Error) => void; binary?: string } = {}): SdNotify {
  const socket = process.env.NOTIFY_SOCKET;
  const binary = opts.binary ?? 'systemd-notify';
  const send = (...args: string[]) => {
    if (!socket) return;
    execFile(binary, args, { timeout: 5000 }, (err) => {
      if (err) opts.onError?.(err);
    });
  };
  const usec = Number(process.env.WATCHDOG_USEC ?? 0);
  // WATCHDOG_PID, when set, names the process the watchdog is for.
  const forUs = !process.env.WATCHDOG_PID || Number(process.env.WATCHDOG_PID) === process.pid;
  const watchdogMs = socket && usec > 0 && forUs ? Math.floor(usec / 1000) : null;
  let timer: NodeJS.Timeout | null = null;
  if (watchdogMs) {
    timer = setInterval(
      () => {
        if (opts.healthy?.() ?? true) send('WATCHDOG=1');
      },
      Math.max(500, Math.floor(watchdogMs / 2)),
    );
    timer.unref();
  }
  return {
    watchdogMs,
    ready: (status) => send('--ready', ...(status ? [`--status=${status}`] : [])),
    stopping: () => send('STOPPING=1'),
    status: (text) => send(`--status=${text}`),
    stop: () => {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
