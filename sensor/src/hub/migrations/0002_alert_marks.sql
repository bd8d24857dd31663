-- What operators did with the fleet's alerts in the dashboard (`tui --postgres`),
-- by fingerprint (rule, ends, function): it holds for repeats, on every sensor.
CREATE TABLE alert_marks (
    fingerprint  text PRIMARY KEY,
    acknowledged boolean NOT NULL,
    muted        boolean NOT NULL,
    updated      timestamptz NOT NULL DEFAULT now()
);
