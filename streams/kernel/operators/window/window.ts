import type { Stage } from '../../stage.ts';
import { type StatefulContext, statefulStage } from '../../stateful.ts';
import { LATE_PORT, type Window, Windower, windowerLogic, windowRecord } from '../../windower.ts';
import type { WindowOptions, WindowResult } from './window-spec.ts';

export { LATE_PORT };

/**
 * Event-time tumbling/hopping windows and count windows, keyed by record key, with state kept per source
 * partition (or over the stream, or with event time per key: see WindowOptions). A thin logic over the engine's
 * windower (streams/windower.ts): each closed window becomes one WindowResult; records whose every window has
 * already closed go to the `late` port.
 */
export function windowStage<T, A, R = A>(name: string, options: WindowOptions<T, A, R>): Stage<T, WindowResult<R>> {
  const windower = new Windower<T, A>(options);
  const result = options.result ?? ((acc: A) => acc as unknown as R);
  const countBased = options.spec.type === 'count';

  const emitClosed = (closed: Window<A>[], ctx: StatefulContext<WindowResult<R>>) => {
    if (closed.length > 0)
      ctx.emit(
        closed.map((w) => windowRecord(w, countBased, result(w.acc))),
        { closes: closed },
      );
  };

  return statefulStage<T, WindowResult<R>>(name, windowerLogic(windower, emitClosed));
}
