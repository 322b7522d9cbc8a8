using System.Text.Json.Nodes;

namespace Respaldo.Tests.Lab;

/// <summary>What every lab configuration keeps, whatever a fixture edits.</summary>
public static class LabConfig
{
    /// <summary>
    /// The set-up check runs only when a test asks for it (doctor, the dashboard's "check now"):
    /// left to its schedule, it would probe the primary 30 s after start, taking a turn of a
    /// seeded fault plan or a connection a test counts, and alert about the lab's own DNS.
    /// A fixture that sets <c>controller.setupCheckIntervalSeconds</c> itself keeps its value.
    /// </summary>
    public static void KeepTestsInCharge(JsonObject config)
    {
        if (config["controller"] is not JsonObject controller)
        {
            controller = [];
            config["controller"] = controller;
        }
        controller.TryAdd("setupCheckIntervalSeconds", 0);
    }
}
