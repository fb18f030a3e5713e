/**
 * Stroke icons drawn inline (a handful of glyphs do not justify an icon-font dependency), as
 * data: each glyph is the SVG shapes of a 24×24 stroke drawing, rendered by AppIcon.
 */
export type IconShape =
  | { path: string }
  | { circle: { cx: number; cy: number; r: number } }
  | { rect: { x: number; y: number; width: number; height: number; rx?: number } };

export const ICONS = {
  key: [{ circle: { cx: 7.5, cy: 15.5, r: 4.5 } }, { path: "M10.7 12.3 21 2M16 7l3 3M18.5 4.5l2 2" }],
  server: [
    { rect: { x: 3, y: 4, width: 18, height: 7, rx: 2 } },
    { rect: { x: 3, y: 13, width: 18, height: 7, rx: 2 } },
    { path: "M7 7.5h.01M7 16.5h.01" },
  ],
  camera: [{ path: "M3 8h4l2-3h6l2 3h4v12H3z" }, { circle: { cx: 12, cy: 13.5, r: 3.5 } }],
  log: [{ path: "M6 2h9l5 5v15H6z" }, { path: "M15 2v5h5M9 12h8M9 16h8" }],
  eye: [{ path: "M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z" }, { circle: { cx: 12, cy: 12, r: 3 } }],
  people: [
    { circle: { cx: 9, cy: 8, r: 4 } },
    { path: "M2 21v-1a6 6 0 0 1 6-6h2a6 6 0 0 1 6 6v1M16 4.1a4 4 0 0 1 0 7.8M22 21v-1a6 6 0 0 0-4-5.7" },
  ],
  sliders: [
    { path: "M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0" },
    { circle: { cx: 16, cy: 6, r: 2 } },
    { circle: { cx: 10, cy: 12, r: 2 } },
    { circle: { cx: 18, cy: 18, r: 2 } },
  ],
  star: [{ path: "M12 3l2.8 5.7 6.2.9-4.5 4.4 1.1 6.2L12 17.3 6.4 20.2l1.1-6.2L3 9.6l6.2-.9z" }],
  menu: [{ path: "M4 6h16M4 12h16M4 18h16" }],
  copy: [
    { rect: { x: 9, y: 9, width: 12, height: 12, rx: 2 } },
    { path: "M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" },
  ],
  check: [{ path: "M4 12.5 9.5 18 20 6" }],
  send: [{ path: "M22 2 11 13M22 2l-7 20-4-9-9-4z" }],
} satisfies Record<string, IconShape[]>;

export type IconName = keyof typeof ICONS;
