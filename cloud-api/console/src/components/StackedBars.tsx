import type { ReactNode } from 'react';

export interface StackedBar {
  key: string | number;
  /** The lower, normal part (allowed entries, successful calls). */
  ok: number;
  /** Stacked on top in red (denied entries, errors). */
  bad: number;
  /** The bar's tooltip. */
  title: string;
  /** Its axis label; only every `labelEvery`-th bar shows one. */
  label: string;
}

/** Bars as plain SVG with a three-tick scale: the dashboard's entries per hour and an application's calls per day. */
export function StackedBars({
  bars,
  ariaLabel,
  height,
  padLeft,
  labelEvery,
  caption,
}: {
  bars: StackedBar[];
  ariaLabel: string;
  height: number;
  padLeft: number;
  labelEvery: number;
  caption?: ReactNode;
}) {
  const W = 720;
  const H = height;
  const padB = 20;
  const padT = 10;
  const max = Math.max(4, ...bars.map((b) => b.ok + b.bad));
  const step = (W - padLeft) / bars.length;
  const y = (v: number) => ((H - padB - padT) * v) / max;
  return (
    <figure className="chart" style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={ariaLabel}>
        {[0, Math.round(max / 2), max].map((v) => (
          <g key={v}>
            <line className="gridline" x1={padLeft} x2={W} y1={H - padB - y(v)} y2={H - padB - y(v)} />
            <text className="axis" x={padLeft - 4} y={H - padB - y(v) + 3} textAnchor="end">
              {v}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const x = padLeft + i * step + 2;
          const w = Math.max(2, step - 4);
          return (
            <g key={b.key}>
              <title>{b.title}</title>
              <rect className="bar" x={x} width={w} y={H - padB - y(b.ok)} height={y(b.ok)} />
              <rect className="bar-deny" x={x} width={w} y={H - padB - y(b.ok + b.bad)} height={y(b.bad)} />
              {i % labelEvery === 0 ? (
                <text className="axis" x={x + w / 2} y={H - 6} textAnchor="middle">
                  {b.label}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      {caption ? <figcaption className="muted">{caption}</figcaption> : null}
    </figure>
  );
}
