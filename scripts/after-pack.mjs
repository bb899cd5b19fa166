// electron-builder `afterPack` hook: sets Electron's fuses on the packaged binary, before signing.
// - RunAsNode off: the app binary cannot be used as a plain Node (ELECTRON_RUN_AS_NODE).
// - NODE_OPTIONS and --inspect arguments ignored: nobody injects code or a debugger through the environment.
// - Cookies encrypted at rest; the app loads only from its app.asar, whose embedded integrity hash is
//   checked (macOS and Windows; electron-builder writes the hash).
// - file:// gets no extra privileges (the UI is served from app://).
import { join } from 'node:path'
import fusesModule from '@electron/fuses'

const { flipFuses, FuseVersion, FuseV1Options } = fusesModule

/** electron-builder's Arch enum value for arm64. */
const ARCH_ARM64 = 3

/** The fuse settings for a platform/arch (arm64 macOS builds need their ad-hoc signature renewed). */
export function fuseConfig(platform, arch) {
  return {
    version: FuseVersion.V1,
    resetAdHocDarwinSignature: platform === 'darwin' && arch === ARCH_ARM64,
    [FuseV1Options.RunAsNode]: false,
    [FuseV1Options.EnableCookieEncryption]: true,
    [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
    [FuseV1Options.EnableNodeCliInspectArguments]: false,
    [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
    [FuseV1Options.OnlyLoadAppFromAsar]: true,
    [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
    [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
  }
}

/** Where the packaged Electron binary is for an electron-builder pack context. */
export function packagedBinary(context) {
  const { appOutDir, electronPlatformName, packager } = context
  const name = packager.appInfo.productFilename
  if (electronPlatformName === 'darwin' || electronPlatformName === 'mas')
    return join(appOutDir, `${name}.app`)
  if (electronPlatformName === 'win32') return join(appOutDir, `${name}.exe`)
  return join(appOutDir, packager.executableName)
}

export default async function afterPack(context) {
  const binary = packagedBinary(context)
  await flipFuses(binary, fuseConfig(context.electronPlatformName, context.arch))
  console.log(`[switchboard] fuses set on ${binary}`)
}
