// Note: every test here drives a whole lab (Postfix, Dovecot, the controller) on a 2-core
// machine and measures what happens under faults; two at once would only measure each other.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
