-- A run database of schema version 1, as tfreeze wrote it before runs.notes (schema 2): made by
-- make_store_fixture of that version, trimmed to a few rows, then sqlite3 .dump; the PRAGMAs at the
-- end are what .dump leaves out. tst_runstore opens it to check the 1 -> 2 migration.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created TEXT NOT NULL,
    finished TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
    failure_reason TEXT,
    config_json TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    boot_id TEXT NOT NULL
);
INSERT INTO runs VALUES(1,'baseline','2026-11-28T13:23:00.769Z','2026-11-28T13:23:00.784Z','finished',NULL,'{"ranks":4,"microbatches":8}','test','vm',26315,'30d56221-f038-42c0-9dbd-c83d76470f27');
INSERT INTO runs VALUES(2,'frozen','2026-11-28T13:23:00.824Z','2026-11-28T13:23:00.851Z','finished',NULL,'{"ranks":4,"microbatches":8}','test','vm',26315,'30d56221-f038-42c0-9dbd-c83d76470f27');
CREATE TABLE steps (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    loss REAL NOT NULL,
    tokens INTEGER NOT NULL,
    batch_ms REAL NOT NULL,
    tokens_per_s REAL NOT NULL,
    bubble REAL NOT NULL,
    rank_bubble TEXT NOT NULL,
    phase TEXT NOT NULL,
    lr REAL NOT NULL,
    stage_freeze TEXT NOT NULL,
    PRIMARY KEY (run, step)
) WITHOUT ROWID;
INSERT INTO steps VALUES(1,0,5.5000000000001003641,2048,120.24999999999999999,3100.0,0.27000000000000001776,'[0.1,0.2,0.30000000000099997,0.4]','warmup',0.0010000000000000000208,'[0.0,0.25,0.3333333333333333,0.5]');
INSERT INTO steps VALUES(1,1,5.4455445544555463044,2049,121.24999999999999999,3100.0999999999999091,0.27100000000000001865,'[0.1,0.2,0.30000000000099997,0.4]','warmup',0.0010000000000000000208,'[0.0,0.25,0.3333333333333333,0.5]');
INSERT INTO steps VALUES(1,2,5.3921568627451978983,2050,122.24999999999999999,3100.199999999999818,0.27200000000000001953,'[0.1,0.2,0.30000000000099997,0.4]','warmup',0.0010000000000000000208,'[0.0,0.25,0.3333333333333333,0.5]');
INSERT INTO steps VALUES(2,0,5.5000000000001003641,2048,120.24999999999999999,3720.0,0.27000000000000001776,'[0.1,0.2,0.30000000000099997,0.4]','warmup',0.0010000000000000000208,'[0.0,0.25,0.3333333333333333,0.5]');
INSERT INTO steps VALUES(2,1,5.4455445544555463044,2049,121.24999999999999999,3720.1199999999998908,0.27100000000000001865,'[0.1,0.2,0.30000000000099997,0.4]','warmup',0.0010000000000000000208,'[0.0,0.25,0.3333333333333333,0.5]');
INSERT INTO steps VALUES(2,2,5.3921568627451978983,2050,122.24999999999999999,3720.2399999999997816,0.27200000000000001953,'[0.1,0.2,0.30000000000099997,0.4]','warmup',0.0010000000000000000208,'[0.0,0.25,0.3333333333333333,0.5]');
CREATE TABLE evals (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    val_loss REAL NOT NULL,
    perplexity REAL NOT NULL,
    token_accuracy REAL NOT NULL,
    exact_match REAL NOT NULL,
    PRIMARY KEY (run, step)
) WITHOUT ROWID;
INSERT INTO evals VALUES(1,9,2.5,12.0,0.4000000000000000222,-1.0);
INSERT INTO evals VALUES(2,9,2.5,12.0,0.4000000000000000222,-1.0);
CREATE TABLE action_spans (
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    rank INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    microbatch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL,
    frozen INTEGER NOT NULL,
    total INTEGER NOT NULL,
    PRIMARY KEY (run, step, rank, stage, microbatch, kind)
) WITHOUT ROWID;
INSERT INTO action_spans VALUES(1,0,0,0,0,'B',50,90,0,6);
INSERT INTO action_spans VALUES(1,0,0,0,0,'F',0,20,0,6);
INSERT INTO action_spans VALUES(1,0,1,1,0,'B',1050,1091,0,6);
INSERT INTO action_spans VALUES(1,0,1,1,0,'F',1000,1021,0,6);
INSERT INTO action_spans VALUES(1,0,2,2,0,'B',2050,2092,0,6);
INSERT INTO action_spans VALUES(1,0,2,2,0,'F',2000,2022,0,6);
INSERT INTO action_spans VALUES(1,0,3,3,0,'B',3050,3093,0,6);
INSERT INTO action_spans VALUES(1,0,3,3,0,'F',3000,3023,0,6);
INSERT INTO action_spans VALUES(2,0,0,0,0,'B',50,80,0,6);
INSERT INTO action_spans VALUES(2,0,0,0,0,'F',0,20,0,6);
INSERT INTO action_spans VALUES(2,0,1,1,0,'B',1050,1081,0,6);
INSERT INTO action_spans VALUES(2,0,1,1,0,'F',1000,1021,0,6);
INSERT INTO action_spans VALUES(2,0,2,2,0,'B',2050,2082,0,6);
INSERT INTO action_spans VALUES(2,0,2,2,0,'F',2000,2022,0,6);
INSERT INTO action_spans VALUES(2,0,3,3,0,'B',3050,3083,0,6);
INSERT INTO action_spans VALUES(2,0,3,3,0,'F',3000,3023,0,6);
CREATE TABLE plans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    created_at_step INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('engine', 'user', 'offline')),
    bounds TEXT NOT NULL,
    batch_ms_no_freeze REAL NOT NULL,
    batch_ms_planned REAL NOT NULL,
    batch_ms_all_frozen REAL NOT NULL,
    applied_at_step INTEGER,
    plan_json TEXT NOT NULL
);
INSERT INTO plans VALUES(1,2,19,'engine','{"action_cap":[],"max_freeze":0.5,"stage_max_freeze":[]}',12.044576315991649906,9.3862642407937730837,8.166038478921628041,20,replace('{\n  "format": "tfreeze-plan/1",\n  "schedule": {"kind": "1F1B", "ranks": 2, "microbatches": 3, "stages_per_rank": 1},\n  "max_freeze": 0.5,\n  "stage_max_freeze": [0.5, 0.5],\n  "batch_ms": {"no_freeze": 12.04457631599165, "planned": 9.386264240793773, "all_frozen": 8.166038478921628},\n  "stage_mean_ratio": [0.5, 0.5],\n  "solve_ms": 5.408263,\n  "actions": [\n    {"rank": 0, "stage": 0, "microbatch": 0, "kind": "F", "max_ms": 1.0934059678027355, "min_ms": 1.0934059678027355, "ratio": 0.0, "start_ms": 0.0, "end_ms": 1.0934059678027355},\n    {"rank": 0, "stage": 0, "microbatch": 1, "kind": "F", "max_ms": 1.0094464498351445, "min_ms": 1.0094464498351445, "ratio": 0.0, "start_ms": 1.0934059678027355, "end_ms": 2.1028524176378802},\n    {"rank": 0, "stage": 0, "microbatch": 0, "kind": "B", "max_ms": 2.189073743985954, "min_ms": 1.094536871992977, "ratio": 0.5, "start_ms": 3.6791863051139364, "end_ms": 5.320991613103402},\n    {"rank": 0, "stage": 0, "microbatch": 2, "kind": "F", "max_ms": 1.0429631987348729, "min_ms": 1.0429631987348729, "ratio": 0.0, "start_ms": 5.320991613103402, "end_ms": 6.3639548118382745},\n    {"rank": 0, "stage": 0, "microbatch": 1, "kind": "B", "max_ms": 2.0790915298389083, "min_ms": 1.0395457649194542, "ratio": 0.0, "start_ms": 6.3639548118387905, "end_ms": 8.443046341677698},\n    {"rank": 0, "stage": 0, "microbatch": 2, "kind": "B", "max_ms": 1.8864357982321507, "min_ms": 0.9432178991160753, "ratio": 1.0, "start_ms": 8.443046341677698, "end_ms": 9.386264240793773},\n    {"rank": 1, "stage": 1, "microbatch": 0, "kind": "F", "max_ms": 1.0952548909552484, "min_ms": 1.0952548909552484, "ratio": 0.0, "start_ms": 1.0934059678027355, "end_ms": 2.188660858757984},\n    {"rank": 1, "stage": 1, "microbatch": 0, "kind": "B", "max_ms": 1.802492102081836, "min_ms": 0.901246051040918, "ratio": 0.346150371882983, "start_ms": 2.188660858757984, "end_ms": 3.6791863051139364},\n    {"rank": 1, "stage": 1, "microbatch": 1, "kind": "F", "max_ms": 0.9505964724766888, "min_ms": 0.9505964724766888, "ratio": 0.0, "start_ms": 3.6791863051139364, "end_ms": 4.629782777590625},\n    {"rank": 1, "stage": 1, "microbatch": 1, "kind": "B", "max_ms": 1.9739166129617784, "min_ms": 0.9869583064808892, "ratio": 0.24291257000353889, "start_ms": 4.629782777590625, "end_ms": 6.3639548118387905},\n    {"rank": 1, "stage": 1, "microbatch": 2, "kind": "F", "max_ms": 1.0558765843587505, "min_ms": 1.0558765843587505, "ratio": 0.0, "start_ms": 6.3639548118387905, "end_ms": 7.419831396197541},\n    {"rank": 1, "stage": 1, "microbatch": 2, "kind": "B", "max_ms": 1.8790740298401012, "min_ms": 0.9395370149200506, "ratio": 0.910937058113478, "start_ms": 7.419831396197541, "end_ms": 8.443046341677652}\n  ]\n}\n','\n',char(10)));
CREATE TABLE plan_actions (
    plan INTEGER NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    stage INTEGER NOT NULL,
    microbatch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    ratio REAL NOT NULL,
    start_ms REAL NOT NULL,
    end_ms REAL NOT NULL,
    PRIMARY KEY (plan, rank, stage, microbatch, kind)
) WITHOUT ROWID;
INSERT INTO plan_actions VALUES(1,0,0,0,'B',0.5,3.679186305113936406,5.3209916131034020736);
INSERT INTO plan_actions VALUES(1,0,0,0,'F',0.0,0.0,1.0934059678027354678);
INSERT INTO plan_actions VALUES(1,0,0,1,'B',0.0,6.3639548118387905262,8.4430463416776984075);
INSERT INTO plan_actions VALUES(1,0,0,1,'F',0.0,1.0934059678027354678,2.1028524176378802224);
INSERT INTO plan_actions VALUES(1,0,0,2,'B',1.0,8.4430463416776984075,9.3862642407937730837);
INSERT INTO plan_actions VALUES(1,0,0,2,'F',0.0,5.3209916131034020736,6.3639548118382744945);
INSERT INTO plan_actions VALUES(1,1,1,0,'B',0.34615037188298297676,2.1886608587579838847,3.679186305113936406);
INSERT INTO plan_actions VALUES(1,1,1,0,'F',0.0,1.0934059678027354678,2.1886608587579838847);
INSERT INTO plan_actions VALUES(1,1,1,1,'B',0.24291257000353888573,4.6297827775906252867,6.3639548118387905262);
INSERT INTO plan_actions VALUES(1,1,1,1,'F',0.0,3.679186305113936406,4.6297827775906252867);
INSERT INTO plan_actions VALUES(1,1,1,2,'B',0.91093705811347802647,7.4198313961975408403,8.4430463416776522223);
INSERT INTO plan_actions VALUES(1,1,1,2,'F',0.0,6.3639548118387905262,7.4198313961975408403);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    time TEXT NOT NULL,
    message TEXT NOT NULL
);
INSERT INTO events VALUES(1,1,'info','2026-11-28T13:23:00.780Z','finished 30 steps');
INSERT INTO events VALUES(2,2,'info','2026-11-28T13:23:00.850Z','finished 30 steps');
DELETE FROM sqlite_sequence;
INSERT INTO sqlite_sequence VALUES('runs',2);
INSERT INTO sqlite_sequence VALUES('plans',1);
CREATE INDEX runs_by_status ON runs (status, id);
CREATE INDEX plans_by_run ON plans (run, id);
CREATE INDEX events_by_run ON events (run, id);
COMMIT;
PRAGMA user_version = 1;
PRAGMA application_id = 1413896753;
