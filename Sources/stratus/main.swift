import StratusCommands

await Stratus.main(arguments: CommandLine.arguments)
