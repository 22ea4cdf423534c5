ALTER TABLE `specs` ADD `model` text;--> statement-breakpoint
ALTER TABLE `worker_queue` ADD `model` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `step_detail` text;--> statement-breakpoint
ALTER TABLE `workers` ADD `model` text;