-- The fleet's inventory and alert history, as the hub keeps them.
-- Records are keyed by (sensor_id, key): a record delivered twice is written once.

CREATE TABLE sensors (
    sensor_id    text PRIMARY KEY,
    first_record timestamptz NOT NULL DEFAULT now(),
    last_record  timestamptz NOT NULL DEFAULT now()
);

-- One row per alert of a sensor: raised, then final (its id and count at the end of the run).
CREATE TABLE alerts (
    sensor_id text NOT NULL REFERENCES sensors,
    key       text NOT NULL,
    state     text NOT NULL CHECK (state IN ('raised', 'final')),
    alert_id  text,
    rule      text NOT NULL,
    severity  text NOT NULL,
    title     text NOT NULL,
    ts        timestamptz NOT NULL,
    last_ts   timestamptz NOT NULL,
    count     bigint NOT NULL,
    src_ip    text,
    dst_ip    text,
    body      jsonb NOT NULL,
    PRIMARY KEY (sensor_id, key)
);
CREATE INDEX alerts_by_time ON alerts (ts);

CREATE TABLE asset_changes (
    sensor_id text NOT NULL REFERENCES sensors,
    key       text NOT NULL,
    kind      text NOT NULL,
    host      text NOT NULL,
    ts        timestamptz NOT NULL,
    detail    text NOT NULL,
    body      jsonb NOT NULL,
    PRIMARY KEY (sensor_id, key)
);

-- Each sensor's own view of an asset: the evidence the fleet view is merged from.
CREATE TABLE sensor_assets (
    sensor_id  text NOT NULL REFERENCES sensors,
    asset_id   text NOT NULL,
    macs       text[] NOT NULL,
    ips        text[] NOT NULL,
    role       text NOT NULL,
    last_seen  timestamptz NOT NULL,
    body       jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sensor_id, asset_id)
);

-- Assets merged across sensors (same MAC address, same vendor and serial
-- number, or an address-only sighting of an address another sensor knows).
CREATE TABLE fleet_assets (
    fleet_id   text PRIMARY KEY,
    macs       text[] NOT NULL,
    ips        text[] NOT NULL,
    role       text NOT NULL,
    vendor     text,
    product    text,
    firmware   text,
    sensors    text[] NOT NULL,
    first_seen timestamptz NOT NULL,
    last_seen  timestamptz NOT NULL
);

CREATE TABLE fleet_asset_evidence (
    fleet_id  text NOT NULL REFERENCES fleet_assets ON DELETE CASCADE,
    sensor_id text NOT NULL,
    asset_id  text NOT NULL,
    PRIMARY KEY (fleet_id, sensor_id, asset_id),
    FOREIGN KEY (sensor_id, asset_id) REFERENCES sensor_assets
);
