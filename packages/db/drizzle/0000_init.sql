CREATE TABLE `chunks` (
	`id` text PRIMARY KEY NOT NULL,
	`spec_id` text NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`order` integer NOT NULL,
	`status` text DEFAULT 'pending' NOT NULL,
	`output_summary` text,
	`error` text,
	`review_status` text,
	`review_feedback` text,
	`dependencies` text DEFAULT '[]' NOT NULL,
	`fix_of` text,
	`commit_hash` text,
	`started_at` integer,
	`completed_at` integer,
	FOREIGN KEY (`spec_id`) REFERENCES `specs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `idx_chunks_spec_order` ON `chunks` (`spec_id`,`order`);--> statement-breakpoint
CREATE TABLE `projects` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`directory` text NOT NULL,
	`description` text,
	`config` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `specs` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`title` text NOT NULL,
	`content` text DEFAULT '' NOT NULL,
	`status` text DEFAULT 'draft' NOT NULL,
	`branch` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `idx_specs_project` ON `specs` (`project_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `worker_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`worker_id` text,
	`spec_id` text,
	`type` text NOT NULL,
	`payload` text DEFAULT '{}' NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `idx_events_worker` ON `worker_events` (`worker_id`,`id`);--> statement-breakpoint
CREATE INDEX `idx_events_at` ON `worker_events` (`at`);--> statement-breakpoint
CREATE TABLE `worker_queue` (
	`id` text PRIMARY KEY NOT NULL,
	`spec_id` text NOT NULL,
	`project_id` text NOT NULL,
	`priority` integer DEFAULT 0 NOT NULL,
	`added_at` integer NOT NULL,
	`wait_reason` text,
	FOREIGN KEY (`spec_id`) REFERENCES `specs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `uq_queue_spec` ON `worker_queue` (`spec_id`);--> statement-breakpoint
CREATE INDEX `idx_queue_priority` ON `worker_queue` ("priority" DESC,"added_at" ASC);--> statement-breakpoint
CREATE TABLE `workers` (
	`id` text PRIMARY KEY NOT NULL,
	`spec_id` text NOT NULL,
	`project_id` text NOT NULL,
	`status` text DEFAULT 'idle' NOT NULL,
	`executor` text DEFAULT 'simulated' NOT NULL,
	`current_chunk_id` text,
	`current_step` text,
	`progress_current` integer DEFAULT 0 NOT NULL,
	`progress_total` integer DEFAULT 0 NOT NULL,
	`progress_passed` integer DEFAULT 0 NOT NULL,
	`progress_failed` integer DEFAULT 0 NOT NULL,
	`workdir` text,
	`branch` text,
	`started_at` integer,
	`finished_at` integer,
	`error` text,
	`lease_owner` text,
	`lease_expires_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`spec_id`) REFERENCES `specs`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `idx_workers_status` ON `workers` (`status`);--> statement-breakpoint
CREATE INDEX `idx_workers_spec` ON `workers` (`spec_id`);