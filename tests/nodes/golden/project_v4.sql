-- Golden dump of a Layerloom project, format 4. Never edit: a format
-- change adds a new project_vN.sql; this file proves old projects keep opening.
PRAGMA application_id = 1280266061;
PRAGMA user_version = 4;
BEGIN TRANSACTION;
CREATE TABLE "checkpoints" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER NOT NULL REFERENCES "runs"("id") ON DELETE CASCADE,
   "kind" TEXT NOT NULL,
   "epoch" INTEGER,
   "step" INTEGER,
   "weights" BLOB,
   "optimizer" BLOB,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "exports" (
   "id" INTEGER PRIMARY KEY,
   "run_id" INTEGER REFERENCES "runs"("id") ON DELETE SET NULL,
   "target" TEXT NOT NULL,
   "options" TEXT NOT NULL DEFAULT '{}',
   "path" TEXT,
   "parity" TEXT,
   "status" TEXT NOT NULL,
   "created_at" TEXT NOT NULL
);
CREATE TABLE "graph_versions" (
   "id" INTEGER PRIMARY KEY,
   "created_at" TEXT NOT NULL,
   "sha256" TEXT NOT NULL,
   "message" TEXT NOT NULL DEFAULT '',
   "graph" TEXT NOT NULL
);
INSERT INTO "graph_versions" VALUES(1,'2025-01-01T00:00:00.000+00:00','c1b83d025c5399fa7901b7f7c6d70a81e2ec480f1275f8850e6b31d2e226ecef','example','{"edges":[["input",0,"flatten",0],["flatten",0,"dense",0]],"nodes":{"dense":{"params":{"activation":"softmax","units":10},"pos":[400,0],"type":"keras.layers.Dense"},"flatten":{"params":{},"pos":[200,0],"type":"keras.layers.Flatten"},"input":{"params":{"shape":[28,28,1]},"pos":[0,0],"type":"keras.layers.Input"}}}');
CREATE TABLE "health" (
   "run_id" INTEGER NOT NULL REFERENCES "runs"("id") ON DELETE CASCADE,
   "seq" INTEGER NOT NULL,
   "epoch" INTEGER,
   "step" INTEGER,
   "node" TEXT NOT NULL,
   "grad_norm" REAL,
   "weight_norm" REAL,
   "update_ratio" REAL,
   "activation_mean" REAL,
   "activation_std" REAL,
   "dead_fraction" REAL,
   "saturated_fraction" REAL,
   "nonfinite" TEXT,
   "rows" TEXT,
   PRIMARY KEY ("run_id", "seq", "node")
);
CREATE TABLE "metrics" (
   "run_id" INTEGER NOT NULL REFERENCES "runs"("id") ON DELETE CASCADE,
   "seq" INTEGER NOT NULL,
   "epoch" INTEGER,
   "step" INTEGER,
   "split" TEXT,
   "name" TEXT NOT NULL,
   "value" REAL,
   PRIMARY KEY ("run_id", "seq", "name")
);
CREATE TABLE "pipeline_runs" (
   "id" INTEGER PRIMARY KEY,
   "created_at" TEXT NOT NULL,
   "finished_at" TEXT,
   "verdict" TEXT NOT NULL,
   "decided_at" TEXT,
   "reason" TEXT,
   "data_path" TEXT NOT NULL,
   "data_fingerprint" TEXT,
   "graph_version_id" INTEGER REFERENCES "graph_versions"("id"),
   "graph_sha256" TEXT,
   "settings" TEXT NOT NULL DEFAULT '{}',
   "run_id" INTEGER REFERENCES "runs"("id") ON DELETE SET NULL,
   "model_name" TEXT,
   "version" INTEGER,
   "push_path" TEXT
);
CREATE TABLE "pipeline_steps" (
   "pipeline_id" INTEGER NOT NULL REFERENCES "pipeline_runs"("id") ON DELETE CASCADE,
   "position" INTEGER NOT NULL,
   "step" TEXT NOT NULL,
   "status" TEXT NOT NULL,
   "started_at" TEXT,
   "finished_at" TEXT,
   "inputs" TEXT,
   "figures" TEXT,
   "message" TEXT,
   PRIMARY KEY ("pipeline_id", "position")
);
CREATE TABLE "runs" (
   "id" INTEGER PRIMARY KEY,
   "graph_version_id" INTEGER NOT NULL REFERENCES "graph_versions"("id"),
   "status" TEXT NOT NULL,
   "settings" TEXT NOT NULL DEFAULT '{}',
   "dataset_fingerprint" TEXT,
   "created_at" TEXT NOT NULL,
   "started_at" TEXT,
   "finished_at" TEXT,
   "error" TEXT
, "backend" TEXT, "host" TEXT, "job_id" TEXT, "accelerator" TEXT, "keras_backend" TEXT, "device_count" INTEGER, "exit_reason" TEXT, "recorder_host" TEXT, "recorder_pid" INTEGER, "last_seq" INTEGER);
CREATE TABLE "settings" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT NOT NULL
);
INSERT INTO "settings" VALUES('training','{"batch_size":32,"epochs":5,"optimizer":"adam"}');
CREATE INDEX "idx_metrics_run_id_name"
    ON "metrics" ("run_id", "name");
CREATE INDEX "idx_checkpoints_run_id"
    ON "checkpoints" ("run_id");
CREATE INDEX "idx_exports_run_id"
    ON "exports" ("run_id");
COMMIT;
