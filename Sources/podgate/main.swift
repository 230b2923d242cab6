#if canImport(Glibc)
import Glibc
#endif

if let code = SimCommands.dispatch(CommandLine.arguments) { exit(code) }
print("podgate")
