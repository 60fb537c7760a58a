/** The built-in function table, assembled from the families. */
import { bitFunctions } from './bits.js';
import { compressionFunctions, encodingFunctions, hashFunctions } from './codec.js';
import { arrayFunctions, mapFunctions } from './collections.js';
import { mathFunctions } from './math.js';
import { conditionalFunctions, kvFunctions, messageFunctions, randomFunctions } from './misc.js';
import { FunctionRegistry } from './registry.js';
import { stringFunctions } from './string.js';
import { timeFunctions } from './time.js';
import { conversionFunctions, typeFunctions } from './types.js';

export { FunctionRegistry, type FunctionContext, type FunctionDef, type FunctionFamily } from './registry.js';

/** Every built-in function, by EMQX name. */
export const builtinFunctions = new FunctionRegistry([
  ...mathFunctions,
  ...typeFunctions,
  ...conversionFunctions,
  ...stringFunctions,
  ...mapFunctions,
  ...arrayFunctions,
  ...hashFunctions,
  ...compressionFunctions,
  ...encodingFunctions,
  ...bitFunctions,
  ...timeFunctions,
  ...randomFunctions,
  ...messageFunctions,
  ...conditionalFunctions,
  ...kvFunctions,
]);
