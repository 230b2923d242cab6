public enum PodgateAgentPlaceholder {}
