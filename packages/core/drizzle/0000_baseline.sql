CREATE TABLE `build_cache` (
	`key` text PRIMARY KEY NOT NULL,
	`layer_digest` text,
	`diff_id` text,
	`config` text,
	`size_bytes` integer DEFAULT 0 NOT NULL,
	`created_at` integer NOT NULL,
	`last_used_at` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `build_cache_layer` ON `build_cache` (`layer_digest`);--> statement-breakpoint
CREATE TABLE `containers` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`image_digest` text NOT NULL,
	`image_ref` text NOT NULL,
	`config` text DEFAULT '{}' NOT NULL,
	`state` text DEFAULT 'created' NOT NULL,
	`pid` integer,
	`exit_code` integer,
	`dir` text,
	`stack` text,
	`labels` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`started_at` integer,
	`finished_at` integer,
	`restart_count` integer DEFAULT 0 NOT NULL,
	`error` text,
	`health` text,
	`stopped_by_user` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (`image_digest`) REFERENCES `images`(`digest`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `containers_name` ON `containers` (`name`);--> statement-breakpoint
CREATE INDEX `containers_image` ON `containers` (`image_digest`);--> statement-breakpoint
CREATE TABLE `image_tags` (
	`name` text PRIMARY KEY NOT NULL,
	`repository` text NOT NULL,
	`tag` text NOT NULL,
	`digest` text NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`digest`) REFERENCES `images`(`digest`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `image_tags_digest` ON `image_tags` (`digest`);--> statement-breakpoint
CREATE TABLE `images` (
	`digest` text PRIMARY KEY NOT NULL,
	`media_type` text NOT NULL,
	`config_digest` text NOT NULL,
	`config` text NOT NULL,
	`layers` text NOT NULL,
	`index_digest` text,
	`os` text NOT NULL,
	`architecture` text NOT NULL,
	`variant` text,
	`size_bytes` integer NOT NULL,
	`source` text,
	`created_at` integer NOT NULL,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE TABLE `leases` (
	`network_id` text NOT NULL,
	`address` text NOT NULL,
	`container_id` text,
	`mac` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`network_id`, `address`),
	FOREIGN KEY (`network_id`) REFERENCES `networks`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`container_id`) REFERENCES `containers`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `leases_container` ON `leases` (`container_id`);--> statement-breakpoint
CREATE TABLE `networks` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`driver` text DEFAULT 'bridge' NOT NULL,
	`subnet` text,
	`gateway` text,
	`bridge` text,
	`labels` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL,
	`ip_range` text,
	`internal` integer DEFAULT 0 NOT NULL,
	`options` text DEFAULT '{}' NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `networks_name` ON `networks` (`name`);--> statement-breakpoint
CREATE TABLE `stacks` (
	`name` text PRIMARY KEY NOT NULL,
	`project_dir` text,
	`config` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `volumes` (
	`name` text PRIMARY KEY NOT NULL,
	`driver` text DEFAULT 'local' NOT NULL,
	`mountpoint` text NOT NULL,
	`labels` text DEFAULT '{}' NOT NULL,
	`created_at` integer NOT NULL
);
