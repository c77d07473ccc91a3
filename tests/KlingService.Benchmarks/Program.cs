using KlingService.Benchmarks;
using KlingService.Tests.Fixtures;

// Measures the service next to its baselines, in one run on one machine, and prints one table:
//   dotnet run -c Release --project tests/KlingService.Benchmarks [-- --quick] [--out FILE] [--only polling,slots]
// (--only long-slots runs the slot scenario's realistic-length run alone.)
var settings = BenchmarkSettings.Parse(args);
Console.WriteLine($"KlingService benchmarks ({(settings.Quick ? "quick" : "full")}), {Environment.ProcessorCount} cores, {DateTime.UtcNow:u}");

var table = new ResultTable();
if (settings.Runs("polling"))
{
    PollingBenchmark.Run(settings, table);
}

if (settings.Runs("pipeline") || settings.Runs("slots") || settings.Runs("long-slots") || settings.Runs("scale") || settings.Runs("status"))
{
    await using var infrastructure = await RealInfrastructure.StartAsync();
    if (settings.Runs("pipeline"))
    {
        await PipelineBenchmark.RunAsync(infrastructure, settings, table);
    }

    if (settings.Runs("slots") || settings.Runs("long-slots"))
    {
        await SlotBenchmark.RunAsync(infrastructure, settings, table, shortTasks: settings.Runs("slots"));
    }

    if (settings.Runs("scale"))
    {
        await ScaleBenchmark.RunAsync(infrastructure, settings, table);
    }

    if (settings.Runs("status"))
    {
        await StatusQueryBenchmark.RunAsync(infrastructure, settings, table);
    }
}

table.Print(Console.Out);
await table.WriteAsync(settings.OutputFile, settings);
Console.WriteLine($"Written to {Path.GetFullPath(settings.OutputFile)}");
