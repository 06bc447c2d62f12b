// The labels docker compose puts on a project's containers; `ps`, `down` and `up` find them by these.
export const LABEL_PROJECT = 'com.docker.compose.project';
export const LABEL_SERVICE = 'com.docker.compose.service';
export const LABEL_NUMBER = 'com.docker.compose.container-number';
export const LABEL_HASH = 'com.docker.compose.config-hash';
export const LABEL_WORKING_DIR = 'com.docker.compose.project.working_dir';
export const LABEL_CONFIG_FILES = 'com.docker.compose.project.config_files';
export const LABEL_ONEOFF = 'com.docker.compose.oneoff';
