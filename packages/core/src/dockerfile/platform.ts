/** The build and target platforms, and the ARGs BuildKit predefines from them. */

/** The host's architecture in OCI terms. */
export function hostArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'arm64':
      return 'arm64';
    case 'arm':
      return 'arm/v7';
    case 'ia32':
      return '386';
    default:
      return process.arch;
  }
}

/** The predefined platform ARGs for a platform pair. */
export function platformArgs(platform: string, buildPlatform: string): Record<string, string> {
  const [tos = 'linux', tarch = 'amd64', tvariant = ''] = platform.split('/');
  const [bos = 'linux', barch = 'amd64', bvariant = ''] = buildPlatform.split('/');
  return {
    TARGETPLATFORM: platform,
    TARGETOS: tos,
    TARGETARCH: tarch,
    TARGETVARIANT: tvariant,
    BUILDPLATFORM: buildPlatform,
    BUILDOS: bos,
    BUILDARCH: barch,
    BUILDVARIANT: bvariant,
  };
}
