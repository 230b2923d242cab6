public enum PodgateCgroupsPlaceholder {}
