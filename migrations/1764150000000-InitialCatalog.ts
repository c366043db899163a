import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole catalog for the mission: accounts, projects, cards, assets and their copies,
 * volumes, off-site targets, retention policies, backup runs, restore drills, audit.
 * States are text with CHECK constraints (not Postgres enums) so a later migration can
 * widen them in one statement.
 */
export class InitialCatalog1764150000000 implements MigrationInterface {
  name = 'InitialCatalog1764150000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email varchar(254) NOT NULL,
        name varchar(200) NOT NULL,
        role varchar(16) NOT NULL CHECK (role IN ('admin','editor','viewer')),
        password_hash text,
        invite_token_hash char(64),
        invite_expires_at timestamptz,
        disabled_at timestamptz,
        last_login_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT users_email_lower CHECK (email = lower(email)),
        CONSTRAINT users_can_log_in CHECK (password_hash IS NOT NULL OR invite_token_hash IS NOT NULL OR disabled_at IS NOT NULL)
      );
      CREATE UNIQUE INDEX users_email_key ON users (email);
      CREATE UNIQUE INDEX users_invite_key ON users (invite_token_hash) WHERE invite_token_hash IS NOT NULL;

      CREATE TABLE sessions (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        token_hash char(64) NOT NULL,
        csrf_token char(43) NOT NULL,
        ip varchar(64),
        user_agent varchar(512),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      );
      CREATE UNIQUE INDEX sessions_token_key ON sessions (token_hash);
      CREATE INDEX sessions_user_idx ON sessions (user_id);
      CREATE INDEX sessions_expires_idx ON sessions (expires_at);

      CREATE TABLE api_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        token_hash char(64) NOT NULL,
        prefix varchar(16) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz,
        expires_at timestamptz,
        revoked_at timestamptz
      );
      CREATE UNIQUE INDEX api_tokens_hash_key ON api_tokens (token_hash);
      CREATE UNIQUE INDEX api_tokens_live_name_key ON api_tokens (user_id, name) WHERE revoked_at IS NULL;

      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
        slug varchar(64) NOT NULL CHECK (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
        client varchar(200),
        shoot_date date,
        type varchar(16) NOT NULL DEFAULT 'other'
          CHECK (type IN ('wedding','portrait','newborn','family','event','commercial','other')),
        status varchar(16) NOT NULL DEFAULT 'active' CHECK (status IN ('active','archived')),
        legal_hold boolean NOT NULL DEFAULT false,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        archived_at timestamptz
      );
      CREATE UNIQUE INDEX projects_slug_key ON projects (slug);
      CREATE INDEX projects_status_created_idx ON projects (status, created_at DESC);
      CREATE INDEX projects_name_lower_idx ON projects (lower(name) text_pattern_ops);

      CREATE TABLE storage_volumes (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        role varchar(16) NOT NULL CHECK (role IN ('primary','mirror')),
        root_path text NOT NULL,
        device_id varchar(64),
        same_device boolean NOT NULL DEFAULT false,
        same_device_override boolean NOT NULL DEFAULT false,
        state varchar(16) NOT NULL DEFAULT 'online' CHECK (state IN ('online','offline','full')),
        free_bytes bigint CHECK (free_bytes >= 0),
        total_bytes bigint CHECK (total_bytes >= 0),
        last_checked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX storage_volumes_role_key ON storage_volumes (role);

      CREATE TABLE cards (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
        label varchar(100) NOT NULL CHECK (length(btrim(label)) > 0 AND label !~ '[/\\\\]' AND label NOT IN ('.','..')),
        camera_make varchar(100),
        camera_model varchar(100),
        camera_serial varchar(100),
        state varchar(16) NOT NULL DEFAULT 'announced'
          CHECK (state IN ('announced','uploading','copied','verifying','verified','at_risk')),
        announced_files integer CHECK (announced_files >= 0),
        announced_bytes bigint CHECK (announced_bytes >= 0),
        file_count integer NOT NULL DEFAULT 0 CHECK (file_count >= 0),
        total_bytes bigint NOT NULL DEFAULT 0 CHECK (total_bytes >= 0),
        redundant_of_card_id uuid REFERENCES cards(id) ON DELETE SET NULL,
        created_by uuid REFERENCES users(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        verified_at timestamptz,
        CONSTRAINT cards_not_own_twin CHECK (redundant_of_card_id IS NULL OR redundant_of_card_id <> id)
      );
      CREATE UNIQUE INDEX cards_project_label_key ON cards (project_id, label);

      CREATE TABLE assets (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        card_id uuid NOT NULL REFERENCES cards(id) ON DELETE RESTRICT,
        project_id uuid NOT NULL REFERENCES projects(id) ON DELETE RESTRICT,
        relative_path text NOT NULL CHECK (length(relative_path) BETWEEN 1 AND 4096),
        relative_path_nfc text NOT NULL CHECK (length(relative_path_nfc) BETWEEN 1 AND 4096),
        version smallint NOT NULL DEFAULT 1 CHECK (version >= 1),
        size bigint NOT NULL CHECK (size >= 0),
        file_class varchar(16) NOT NULL DEFAULT 'other'
          CHECK (file_class IN ('raw','video','image','sidecar','catalog','other')),
        capture_time timestamptz,
        modified_time timestamptz,
        xxh64 char(16) CHECK (xxh64 ~ '^[0-9a-f]{16}$'),
        sha256 char(64) CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        protection varchar(16) NOT NULL DEFAULT 'uploading'
          CHECK (protection IN ('uploading','copied','verified','offsite','immutable','drilled','at_risk')),
        protection_reason text,
        duplicate_of_asset_id bigint REFERENCES assets(id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT assets_relative_path_safe CHECK (
          relative_path !~ '(^|/)\\.\\.(/|$)' AND left(relative_path, 1) <> '/' AND relative_path !~ '[\\x01-\\x1f\\x7f]')
      );
      CREATE UNIQUE INDEX assets_card_path_version_key ON assets (card_id, relative_path_nfc, version);
      CREATE INDEX assets_card_order_idx ON assets (card_id, relative_path_nfc, id);
      CREATE INDEX assets_project_protection_idx ON assets (project_id, protection);
      CREATE INDEX assets_sha256_idx ON assets (sha256) WHERE sha256 IS NOT NULL;
      -- "files without a verified off-site copy": stays small once the studio is protected.
      CREATE INDEX assets_not_offsite_idx ON assets (project_id, id)
        WHERE protection IN ('uploading','copied','verified','at_risk');

      CREATE TABLE offsite_targets (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(64) NOT NULL,
        kind varchar(8) NOT NULL CHECK (kind IN ('s3','disk')),
        settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        credentials_encrypted bytea,
        lock_mode varchar(16) NOT NULL DEFAULT 'GOVERNANCE' CHECK (lock_mode IN ('GOVERNANCE','COMPLIANCE')),
        immutable boolean NOT NULL DEFAULT true,
        rotates_offsite boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        last_test_at timestamptz,
        last_test_ok boolean,
        last_test_report jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX offsite_targets_name_key ON offsite_targets (lower(name));

      CREATE TABLE copies (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        asset_id bigint NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
        volume_id uuid REFERENCES storage_volumes(id) ON DELETE RESTRICT,
        target_id uuid REFERENCES offsite_targets(id) ON DELETE RESTRICT,
        state varchar(16) NOT NULL DEFAULT 'pending'
          CHECK (state IN ('pending','writing','written','verified','mismatch','missing','uploading','uploaded','immutable','failed')),
        location text,
        version_id text,
        verify_method varchar(16) CHECK (verify_method IN ('o_direct','fadvise','plain','target_checksum')),
        observed_xxh64 char(16),
        observed_sha256 char(64),
        verified_at timestamptz,
        lock_mode varchar(16) CHECK (lock_mode IN ('GOVERNANCE','COMPLIANCE')),
        retain_until timestamptz,
        lock_checked_at timestamptz,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT copies_one_location CHECK ((volume_id IS NULL) <> (target_id IS NULL)),
        CONSTRAINT copies_local_states CHECK (volume_id IS NULL OR state IN ('pending','writing','written','verified','mismatch','missing','failed')),
        CONSTRAINT copies_verified_has_time CHECK (state <> 'verified' OR verified_at IS NOT NULL)
      );
      CREATE UNIQUE INDEX copies_asset_volume_key ON copies (asset_id, volume_id) WHERE volume_id IS NOT NULL;
      CREATE UNIQUE INDEX copies_asset_target_version_key ON copies (asset_id, target_id, coalesce(version_id, '')) WHERE target_id IS NOT NULL;
      CREATE INDEX copies_volume_state_idx ON copies (volume_id, state) WHERE volume_id IS NOT NULL;
      CREATE INDEX copies_target_state_idx ON copies (target_id, state) WHERE target_id IS NOT NULL;

      CREATE TABLE retention_policies (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        file_class varchar(16) NOT NULL CHECK (file_class IN ('raw','video','image','sidecar','catalog','other')),
        project_type varchar(16)
          CHECK (project_type IN ('wedding','portrait','newborn','family','event','commercial','other')),
        lock_mode varchar(16) NOT NULL DEFAULT 'GOVERNANCE' CHECK (lock_mode IN ('GOVERNANCE','COMPLIANCE')),
        lock_days integer NOT NULL CHECK (lock_days BETWEEN 0 AND 36525),
        version_keep_days integer NOT NULL CHECK (version_keep_days BETWEEN 0 AND 36525),
        local_keep_days integer CHECK (local_keep_days BETWEEN 0 AND 36525),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE UNIQUE INDEX retention_policies_class_type_key ON retention_policies (file_class, coalesce(project_type, ''));

      CREATE TABLE backup_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        target_id uuid NOT NULL REFERENCES offsite_targets(id) ON DELETE CASCADE,
        trigger varchar(16) NOT NULL CHECK (trigger IN ('nightly','ingest','manual','schedule')),
        state varchar(16) NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','paused','completed','failed')),
        started_at timestamptz,
        finished_at timestamptz,
        files integer NOT NULL DEFAULT 0 CHECK (files >= 0),
        bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        error_count integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
        errors jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX backup_runs_target_created_idx ON backup_runs (target_id, created_at DESC);

      CREATE TABLE restore_drills (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        target_id uuid REFERENCES offsite_targets(id) ON DELETE SET NULL,
        trigger varchar(16) NOT NULL CHECK (trigger IN ('schedule','manual')),
        state varchar(16) NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','passed','failed')),
        started_at timestamptz,
        finished_at timestamptz,
        files integer NOT NULL DEFAULT 0 CHECK (files >= 0),
        bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        error_count integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
        report jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX restore_drills_created_idx ON restore_drills (created_at DESC);

      CREATE TABLE audit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_user_id uuid REFERENCES users(id) ON DELETE SET NULL,
        actor_email varchar(254),
        action varchar(64) NOT NULL,
        subject_type varchar(32),
        subject_id varchar(64),
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        ip varchar(64),
        request_id varchar(64)
      );
      CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC);
      CREATE INDEX audit_events_actor_idx ON audit_events (actor_user_id, at DESC);

      CREATE TABLE settings (
        key varchar(64) PRIMARY KEY,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      DROP TABLE settings, audit_events, restore_drills, backup_runs, retention_policies, copies,
        offsite_targets, assets, cards, storage_volumes, projects, api_tokens, sessions, users;
    `);
  }
}
