/** The `console` action: writes each output to the log (EMQX prints it to the console). */
import type { Logger } from '@junction/broker-core';
import { LOG } from '../log-events.js';
import { toJson } from '../runtime/values.js';
import type { Action } from './types.js';

export function consoleAction(log: Logger): Action {
  return {
    name: 'console',
    run(output) {
      log.info({ rule_id: output.ruleId, output: toJson(output.data), event: output.event.event }, LOG.consoleOutput);
      return 'success';
    },
  };
}
