public enum PodgateCompilerPlaceholder {}
