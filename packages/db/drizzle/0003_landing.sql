ALTER TABLE `workers` ADD `base_branch` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `base_commit` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `landed_how` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `landed_commit` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `landed_at` integer;--> statement-breakpoint
ALTER TABLE `workers` ADD `changes_files` integer;--> statement-breakpoint
ALTER TABLE `workers` ADD `changes_additions` integer;--> statement-breakpoint
ALTER TABLE `workers` ADD `changes_deletions` integer;