/** Mathematical functions (EMQX: abs ... tanh, plus `random`). */
import { def, finite, int, num, type FunctionDef } from './registry.js';

const unary = (name: string, summary: string, f: (x: number) => number): FunctionDef =>
  def(name, 'math', 1, `${name}(x)`, summary, ([x]) => finite(name, f(num(name, x))));

/** Erlang's round: halves away from zero. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

export const mathFunctions: FunctionDef[] = [
  unary('abs', 'Absolute value.', Math.abs),
  unary('acos', 'Arc cosine, in radians.', Math.acos),
  unary('acosh', 'Inverse hyperbolic cosine.', Math.acosh),
  unary('asin', 'Arc sine, in radians.', Math.asin),
  unary('asinh', 'Inverse hyperbolic sine.', Math.asinh),
  unary('atan', 'Arc tangent, in radians.', Math.atan),
  unary('atanh', 'Inverse hyperbolic tangent.', Math.atanh),
  unary('ceil', 'Smallest integer not below x.', Math.ceil),
  unary('cos', 'Cosine of x radians.', Math.cos),
  unary('cosh', 'Hyperbolic cosine.', Math.cosh),
  unary('exp', 'e to the power x.', Math.exp),
  unary('floor', 'Largest integer not above x.', Math.floor),
  unary('log', 'Natural logarithm.', (x) => (x <= 0 ? NaN : Math.log(x))),
  unary('log10', 'Base-10 logarithm.', (x) => (x <= 0 ? NaN : Math.log10(x))),
  unary('log2', 'Base-2 logarithm.', (x) => (x <= 0 ? NaN : Math.log2(x))),
  unary('round', 'Nearest integer; halves away from zero.', roundHalfAway),
  unary('sin', 'Sine of x radians.', Math.sin),
  unary('sinh', 'Hyperbolic sine.', Math.sinh),
  unary('sqrt', 'Square root.', Math.sqrt),
  unary('tan', 'Tangent of x radians.', Math.tan),
  unary('tanh', 'Hyperbolic tangent.', Math.tanh),
  def('fmod', 'math', 2, 'fmod(x, y)', 'Floating-point remainder of x / y, with the sign of x.', ([x, y]) => finite('fmod', num('fmod', x) % num('fmod', y))),
  def('power', 'math', 2, 'power(x, y)', 'x to the power y.', ([x, y]) => finite('power', Math.pow(num('power', x), num('power', y)))),
  def('random', 'math', 0, 'random()', 'A random float in [0, 1).', () => Math.random()),
  def('rand_int', 'math', 1, 'rand_int(n)', 'A random integer in [1, n].', ([n]) => {
    const max = int('rand_int', n);
    if (max < 1) return finite('rand_int', NaN);
    return 1 + Math.floor(Math.random() * max);
  }),
];
