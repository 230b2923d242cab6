import PodgateModel

/// Bounds on what one YAML stream may cost. Aliases are expanded into the
/// tree, so every use of an alias counts its whole subtree again: a
/// "billion laughs" document hits `maxNodes` long before it hits memory.
public struct YAMLLimits: Hashable, Sendable {
    public var maxDepth: Int
    public var maxNodes: Int
    public var maxScalarBytes: Int
    public var maxInputBytes: Int

    public init(maxDepth: Int = 64, maxNodes: Int = 100_000, maxScalarBytes: Int = 1 << 20, maxInputBytes: Int = 16 << 20) {
        self.maxDepth = maxDepth
        self.maxNodes = maxNodes
        self.maxScalarBytes = maxScalarBytes
        self.maxInputBytes = maxInputBytes
    }
}

/// A YAML stream that could not be read, with the 1-based position of the problem.
public struct YAMLError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int

    public init(message: String, line: Int, column: Int) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}
