import QRCode from 'qrcode';
import { useMemo } from 'react';

/**
 * The QR drawn as one SVG path from the library's module matrix: no canvas,
 * no innerHTML, no image request, so it works offline and under a strict CSP.
 */
export function Qr({ text, size = 240, label }: { text: string; size?: number; label: string }) {
  const { d, n } = useMemo(() => {
    const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
    const m = qr.modules;
    let path = '';
    for (let y = 0; y < m.size; y++) {
      for (let x = 0; x < m.size; x++) if (m.data[y * m.size + x]) path += `M${x + 4} ${y + 4}h1v1h-1z`;
    }
    return { d: path, n: m.size + 8 };
  }, [text]);
  return (
    <svg
      className="qr"
      role="img"
      aria-label={label}
      width={size}
      height={size}
      viewBox={`0 0 ${n} ${n}`}
      data-payload-length={text.length}
    >
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
