// The part of better-sqlite3's API the benchmark uses (the package ships no types, and
// @types/better-sqlite3 is not a dependency of this package).
declare module 'better-sqlite3' {
  namespace Database {
    interface RunResult {
      changes: number;
      lastInsertRowid: number | bigint;
    }
    interface Statement {
      run(...params: unknown[]): RunResult;
    }
    type Transaction<F extends (...args: never[]) => unknown> = F;
    interface Database {
      pragma(source: string): unknown;
      exec(source: string): this;
      prepare(source: string): Statement;
      transaction<F extends (...args: never[]) => unknown>(fn: F): Transaction<F>;
      close(): this;
    }
  }
  const Database: new (filename: string) => Database.Database;
  export default Database;
}
