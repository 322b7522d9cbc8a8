// Note: these tests share the machine's users, groups, dpkg database and a 2-core CPU;
// one at a time keeps them independent and the timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
