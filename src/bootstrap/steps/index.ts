export * from "./context.js";
export { waitForPackageManager, PACKAGE_MANAGER_FREE_SCRIPT } from "./package-manager.js";
export { installDocker, INSTALL_DOCKER_SCRIPT } from "./docker-install.js";
export { createNetwork } from "./network.js";
export { createVolumes } from "./volumes.js";
export { uploadTls } from "./tls-files.js";
export { startServer, serverArgs, serverConfigHash } from "./server-container.js";
export { waitForServer } from "./server-ready.js";
export { takeBootstrapToken, parseBootstrapToken, KEEP_TOKEN_SCRIPT, TOKEN_FILE } from "./bootstrap-token.js";
export { startRunner, runnerArgs, runnerConfigHash } from "./runner-container.js";
export {
  uploadRegistryAuth, hasRegistryAuth, runnerDockerConfig, GCE_CREDENTIAL_HELPER_SCRIPT, GCE_HELPER_NAME, GCE_HELPER_BINARY,
  type RegistryAuth,
} from "./registry-credentials.js";
export { waitForRunner } from "./runner-registered.js";
export { setRunnerProfile, profilePluginConfig, expectedProfileJson } from "./runner-profile.js";
export { clientEnv, waypointAnonymous, waypointWithToken, waypointJsonContains, WITH_TOKEN_SCRIPT, EXPECT_JSON_SCRIPT, PROFILE_SET_SCRIPT, waypointProfileSet } from "./waypoint-cli.js";
