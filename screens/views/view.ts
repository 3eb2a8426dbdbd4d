// A screen of the TUI: panes in focus order, laid out in the area between header and status line.
import type blessed from 'blessed';
import type { TuiState } from '../state/types.js';
import type { PaneLike, Rect } from '../widgets/pane.js';

/** The screens of the TUI; a key binding's scope can be one of them (screens/keys.ts). */
export type ScreenId = 'dashboard' | 'backups' | 'remotes' | 'log';

export interface View {
  readonly id: ScreenId;
  readonly panes: PaneLike[];
  /** the container every widget of the view hangs on; hidden when another view shows */
  readonly root: blessed.Widgets.BoxElement;
  focus: number;
  layout(area: Rect): void;
  /** copy state into the panes; called by the render pass only */
  sync(s: TuiState, now: number): void;
  /** Enter on the focused pane */
  open(): void;
  /** Esc: true when the view went back a level itself */
  back(): boolean;
  /** called when the view becomes visible */
  enter?(): void;
  /** after the cursor moved */
  onMove?(): void;
}
