// SPDX-License-Identifier: Apache-2.0
/*
 * bullmq.c - BullMQ script identification and job inference (see bullmq.h).
 *
 * Identification is by shape, because SHA1s change with nearly every bullmq
 * release: find the queue base "<prefix>:<queue>:" that the most KEYS share
 * with a known suffix (wait, active, ...), note which suffixes are present
 * and which key is a job key (base + id), then apply ARGV markers:
 *
 *   moveToFinished   ARGV[3] in {returnvalue, failedReason}, ARGV[5] in {completed, failed}
 *   moveStalled...   KEYS[1] = :stalled and a :stalled-check key
 *   extendLocks      one key, :stalled          extendLock: [<id>:lock, :stalled]
 *   moveToActive     KEYS = wait, active, prioritized|priority..., no job key, ARGV[1] = base
 *   retryJob         job key + active, ARGV[3] in {LPUSH, RPUSH}
 *   moveToDelayed    job key + active + delayed, no completed/failed key
 *   add*             ARGV[1] msgpack array starting with base; kind by suffixes
 *   getCounts        one key = base, ARGV are state names
 *   removeJob        [jobKey, :repeat], or (4.x) [base] + [id, 0|1]
 *
 * The SHA1 table (all scripts of 8 releases, 2.4.0..6.7.0) only names
 * scripts the shape rules leave unknown, and names EVALSHA calls for metrics.
 *
 * Inference state is bounded: queues (max_queues), tracked jobs in an
 * open-addressing table (max_jobs, oldest evicted), staged ops (max_staged).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <strings.h>

#include "bullmq.h"

/* ---- SHA1 hints, generated from shared/fixtures/bullmq/sha-tables (sorted) ---- */

struct sha_name {
	const char *sha;
	const char *name;
};

static const struct sha_name sha_names[] = {
	{ "0356767264b52706eb3ef2742cba244e09edeece", "moveToWaitingChildren" },
	{ "04bc84f52b5c1a1238af36a0c38c474721088663", "moveToActive" },
	{ "0712f368ed58c17e481d319f364e46cbf665b95b", "changePriority" },
	{ "08a410aa376b0d5682511f14a7312b044fbbc916", "reprocessJob" },
	{ "0949ff9d2fb7c0195900673e3803be7c7b925d18", "isJobInList" },
	{ "0af231b874ef11c1bbb1d8a282f62da27e60a0ad", "updateData" },
	{ "0b66c526da08f64b2fa47d8d967387f9f45765c2", "addRepeatableJob" },
	{ "0ce0790125e0c6ca9ef3c77e7ffa994ce102ec6c", "updateJobScheduler" },
	{ "0d3cc488e178c7c757e27ee35b04e6486f7b392a", "getCountsPerPriority" },
	{ "0f52657cfc4bb5bc84b9e5fdff080d00949a41dd", "removeRepeatable" },
	{ "0fc4af29f08e5e44be92902ce688e5cbd914e753", "addJobScheduler" },
	{ "1045e6ed698250972903f84ca184aa8238f0fc7c", "addParentJob" },
	{ "119c7f6f10c68c74b736bce86f9843d504e5b45d", "moveToActive" },
	{ "11d69c87800ed307165e6eeba9c2e94d9fb95fcd", "moveToFinished" },
	{ "12a42ffd90c486a7f398fbb17cdcdd484f4abaea", "updateData" },
	{ "1323ff649a78371c602a52252e61dc9f2fdfe36d", "reprocessJob" },
	{ "148bbb03d000857c95d1d6d096ad196c0b6d610b", "getStateV2" },
	{ "15fe3b282563af623bbb8a7fc5388da7ac048941", "getCountsPerPriority" },
	{ "18e65990db4c93586838c27a5975ee2d3a63ce00", "updateRepeatableJobMillis" },
	{ "1a53bb9107fc4472b08f13cf772095b2abd65eea", "relaySweep" },
	{ "1a81e85ab6be2d531f463ccc8ab17a81b858dcdb", "cleanJobsInSet" },
	{ "1bbd3a4e627365f4e5a472dcf7f46205d43c2918", "changeDelay" },
	{ "1c926c29ef580d356c9146400ce0898d5d2000a9", "addJob" },
	{ "1cc41285a3a4252acb2dee15bb4a1f210e8de669", "promote" },
	{ "1d3906fe68f83b4d64138dabeb6c042e47a8a765", "addParentJob" },
	{ "1d740f19fe984343737df70206877be7cbab6913", "promote" },
	{ "1e9bb7deb6219644a634d32c430ce15ed39a377e", "moveStalledJobsToWait" },
	{ "1fde6ac07644b0a3e58402e67cb30d074374e076", "moveJobFromActiveToWait" },
	{ "24e0a4e97b78f73b314c257b4fff96ebfc207f27", "paginate" },
	{ "27b9f27f96bf49de5adec538768fda1070bb20f9", "cleanJobsInSet" },
	{ "298407d4e331e9679b21d3ef71f1ab268fd9e8da", "reprocessJob" },
	{ "298a45c71e682908da783e147fcc434ad7387a68", "pause" },
	{ "299880da0f75f0b376ee8e87d20eae62f964ac5e", "addPrioritizedJob" },
	{ "29ddbf473c35ff1888dcccb2afe79778a01c9a1e", "retryJob" },
	{ "2a7354290da602b2ee9cff4d9170ba8774c86c05", "takeLock" },
	{ "2c21b4165511c6c23dffe537928638b4262e5752", "getJobs" },
	{ "2e3d2277043ce9692d0dd5e509ddb1ce487a617f", "drain" },
	{ "2f746a769bc3d182a0f73ace6bb7a4906faf5df9", "moveJobFromActiveToWait" },
	{ "2fc89305bc3c4d9b63b20ebd5f1e702ffd3e2749", "getRateLimitTtl" },
	{ "33f7e6ddf1cc5ff38caa5f4335c04401215c0390", "isFinished" },
	{ "3534eec13164a4c517183609fab2384fd938e15a", "obliterate" },
	{ "35fbc2569911c2b95dd1f91d11f517607623ca02", "changePriority" },
	{ "373cd929817041e9886b8934d98dcad319bd1fa3", "obliterate" },
	{ "373dd5ff5b300deb3d6cd7e867c4b68023871d82", "addJobScheduler" },
	{ "3992a5e275afcbfb99c5cdc11372e2d3825e9c39", "updateProgress" },
	{ "3b1d1df758d39e3939530d7943c8f8b10be81ef5", "promote" },
	{ "3cb5ae40fe09e537696194d19a3e20683c9d4138", "removeRepeatable" },
	{ "3ce8b870ab503660ed4d3e5baf437990c392d1dc", "moveToDelayed" },
	{ "3e1c5dc6a12d57a7c89a77d80e907b74eee21d63", "retryJob" },
	{ "3e90cb3738218db992d1a8240931632ea9b50cfe", "getState" },
	{ "411a6d03c2e634c2b4e353664075da0125bc3846", "addPrioritizedJob" },
	{ "41ef39832ac9dda0aaa209d6a0f7b11c2e6c2d35", "moveJobsToWait" },
	{ "44522e23a51b3788617a2567535684cace1da887", "cleanJobsInSet" },
	{ "4500167f688cb8d0095c803fe196bd27a55a53dd", "retryJob" },
	{ "453b3c98006ba68e51b1a0018c536941e1927961", "drain" },
	{ "46901e8e267ee4ee4f93c80c04f93223378a5f44", "removeUnprocessedChildren" },
	{ "473f9e23e34ebda2961082e87469a2f19b27d01e", "addDelayedJob" },
	{ "47511f62a2b73d103781116e51a74a7afc9f53d8", "addJobScheduler" },
	{ "47f0fd02f7547c9d00e39b5b5eb24231b4b177c4", "moveStalledJobsToWait" },
	{ "494df440a22d9222f67a6563263ee67752593edb", "promote" },
	{ "4a4a04e444061d5a3ae7f4d99f91dbee96f07b62", "getMetrics" },
	{ "4bc90f6b2ea5951db819379563c2eefc7af85930", "relayUnregisterNode" },
	{ "4c38bc426eaf2644633ddbdc7475d2fbb8ecef59", "moveJobsToWait" },
	{ "4da21b4a6efa92d4c0bdfc40e803ecc1e9ab4eb5", "updateJobScheduler" },
	{ "4f2528c6590c53d78fa446f530a5bcbcb80df0cc", "relayHeartbeat" },
	{ "50f67b9ae294f395fd0fe8c62edfc661267ad9b7", "moveToDelayed" },
	{ "53ab4f8913ccc3797caf33610bded95fca236e13", "promote" },
	{ "550cfa9a1b29f0351ff0df3bb97ca2429f7c397a", "obliterate" },
	{ "5539962cc9e9b5d975cfddf978a119de22a7c5a5", "addDelayedJob" },
	{ "568868f89f8cc74c44032e07ce9c50c09e60bd17", "updateJobScheduler" },
	{ "574af105e7df948fdf7e5410f3190a87f037d7f3", "removeJob" },
	{ "58fd83bba89fe6882602dbe054f434f318906080", "moveToFinished" },
	{ "596d4fc776df3afce247e0fb3d71864ff9816991", "getState" },
	{ "5a9eaaaaaa449404facbd5f40ff1e60a1e6d5a21", "updateRepeatableJobMillis" },
	{ "5ab432e88830d573e2fa33392ffbd4ad25a9b100", "addStandardJob" },
	{ "5dbdc752289b0edf01d571d2dfab3dcf5b8d5778", "drain" },
	{ "5e107aa7dd123c4a80fc40151f8d25596c39353a", "getStateV2" },
	{ "604417655a34c1eb739cc1a2381605fc85c6fb3f", "retryJobs" },
	{ "604e0a2321f7142a82189d1b3259a35b67ce0b0a", "addDelayedJob" },
	{ "655fa4396927ac2e4239ae18746a6c053c05c5d5", "moveJobsToWait" },
	{ "65e81fdce375a343299def29f63140a750a7b139", "moveToDelayed" },
	{ "662da6dc59fe1e3768fb73a704c604e00b30deb2", "pause" },
	{ "69666e69dd5621df59067a03de685e55a486560d", "moveToFinished" },
	{ "6973c26e3288f458fe6c1018d2e75b11159dc264", "moveToWaitingChildren" },
	{ "6a252783b0c051ada39aa88d77357405c585cbe5", "addParentJob" },
	{ "6ab3da66c7019f2baed32b1b6ded3d70871a9882", "removeJob" },
	{ "6c2bf9284f8f23d9debfbeb5fa7cce8270679d6c", "removeUnprocessedChildren" },
	{ "6c4c6de2bece2ad87657691d945d902df2198f5e", "moveToActive" },
	{ "6e2cbcccef6ad72183daa093a4185ec0127c73f9", "pause" },
	{ "6fa777040226443befc6851bf06ff4ad0137e11d", "getJobScheduler" },
	{ "705dea099608a5bec7f0193936824b3ddfd33d79", "getCounts" },
	{ "70bb0fa7170456bba36f017fc2278cde6fa07047", "moveJobFromActiveToWait" },
	{ "720d973b3877f92b4fb3285ced83c97cdd204979", "cleanJobsInSet" },
	{ "735935c0c63e709c1a04a6558ecd49d694fc07a5", "removeJob" },
	{ "75ad19a71f405e3217e5b025bbe137d44e11c306", "changeDelay" },
	{ "77c7f1ac05bdcf9f7bee893fca6981f7895fe187", "addStandardJob" },
	{ "77c864aeec87fa8e36660a590daa066acf6536c4", "addDelayedJob" },
	{ "7bd0d7e618ce59960988976ec6d8488190bfa1bf", "addPrioritizedJob" },
	{ "7bf179f40a752602cf13f01ea957f04b4ddfc830", "changePriority" },
	{ "7c8c4addce8284bebfd07aade54c2e77483d5a67", "getRanges" },
	{ "7d10323fcf64aca8477befc77ef3483697c335d4", "cleanJobsInSet" },
	{ "7fafc57c06446598a2e9e21a718f11559c3b74c7", "isJobInList" },
	{ "808626431266f2e834f108cac6b35ce556927132", "addStandardJob" },
	{ "812d06de3eaf0fb70e333b3d0142eed8bf630a2d", "retryJob" },
	{ "81698fd2d28e7db1787595b3c464b188fa78bdcf", "addDelayedJob" },
	{ "8193548d62b0cd9223df46482777b662a185e8d6", "releaseLock" },
	{ "81fbaf39a6b4f458cd4085158d264cc3ed2d172a", "addJobScheduler" },
	{ "825733b9e4d03af09b904ac980ed610ac396f66c", "moveStalledJobsToWait" },
	{ "83e68e2628933191fc09966810bd07490bf44ab4", "releaseParentIfNoPendingDependencies" },
	{ "840cf612b9e4155aeb79853f3502814792769274", "addPrioritizedJob" },
	{ "8857a088a8555cf7fb21513a66531eb00cf8932d", "getState" },
	{ "8b4682aa777886ad4a5c60c3f528309f3721d472", "addParentJob" },
	{ "8b7754dbe8ee0938a634f0bfd43cfa41084e2074", "removeRepeatable" },
	{ "8c25f7be363de2a28428dae13ddc20ffb3f6e7aa", "pause" },
	{ "8cabebd7c3ba2e462b98246821629111abaee1e2", "retryJob" },
	{ "8cbee6d209d5447ca8fa6c6384841fda44425d2d", "removeJob" },
	{ "8dda09f0ada31675974dc60c7d149ee15b0743b9", "reprocessJob" },
	{ "8ead3c08a7bde7653892f14e44385d448a0f291c", "getRanges" },
	{ "8eb09338a4d68a0d75605cdbcaec70765c6b3a73", "moveToActive" },
	{ "915456b98cefd4cfc19cf99a50d73bde41a27b6c", "isMaxed" },
	{ "91d0d0ceb4fdecae5b011a6acad7dae6df8b917a", "removeChildDependency" },
	{ "9216bb728b7998a9573bff0bc3b1df12250b8b7c", "relayDeleteRetained" },
	{ "92372d939896ee53f841c7ba94305e56a871786f", "getRateLimitTtl" },
	{ "945a3e6308cbe4c91615e223b3fe27b601f5917b", "relayTouchNamespace" },
	{ "9460dad9f136a36e62a1fb4fa82073e556bf6210", "promote" },
	{ "95711cd3cf601a4ba57a80f48b3424a363501abd", "addStandardJob" },
	{ "96ff711b2200dc5e194c253252ed5774e2cfd0bb", "moveToDelayed" },
	{ "986fc3d43ee7ca0e483e119ed258f5aba056beff", "relayPublish" },
	{ "9941c303fd1cd31a262324a90c1cd7236c5022d5", "addPrioritizedJob" },
	{ "99b6eb3d7a4777fb2271fd6cdf3ac5a290a4aac4", "extendLock" },
	{ "9abbafb2928c5ebe995bbb71ee28f3109a948171", "removeJobScheduler" },
	{ "9cafb5464f1264634c440ee2e365936bafa909b6", "moveStalledJobsToWait" },
	{ "9cd737a3b514b4f09b93ba5044bcd63269d0607c", "addParentJob" },
	{ "9dc8f3f21258be00737ade03850a4fcca1d65b9b", "moveJobsToWait" },
	{ "9ddd27ba08a7ec8a36289beb96191d7ce870198f", "removeDeduplicationKey" },
	{ "9ee56e7ec0c9fc4b5a089710037af8c41a16469b", "addJob" },
	{ "9f83944d6edafd63c74121d73299dd3358ddfe0c", "moveToDelayed" },
	{ "a15bb8e81ebedd65c174f66f707b134fa51f35a1", "updateProgress" },
	{ "a36f3345f6432e0eb206bdd786dea813ffff2cfb", "updateProgress" },
	{ "a3bdef6bddee0c87c4d729dcde261ffd5309d33e", "relayReadInbox" },
	{ "a7b39766da8f5ced70f465297396dd83e550ceed", "addStandardJob" },
	{ "a7ee3700c315bb38e560dfed2b3ab8951c93a24d", "moveToDelayed" },
	{ "a8034c631460c6803c87966ce881636246de2398", "getCounts" },
	{ "a8efce614955deae95fc42dae61f6a24cffda285", "removeJob" },
	{ "aa94dc35fb8a4d637c5faaa49796b6094475e299", "releaseLock" },
	{ "ab2818154a3f405adad5e01b769e79c50fb9e615", "saveStacktrace" },
	{ "abd7e936e55a858203fec357f77b9dd65c271f0f", "relayAckInbox" },
	{ "ae0f33afda1ee3fb6215a0562d80eba4b0e3011c", "moveToActive" },
	{ "ae5c4509ec126ac639649cdf28b6cca39e71b4f5", "relaySubscribe" },
	{ "b03b05474dc8f85c50423558bedf61cad59cbc1e", "moveJobFromActiveToWait" },
	{ "b4514f4b39660691beec2ab3023b9b46b093b439", "pause" },
	{ "b588db2e6f108117dcfa5966b343f1203d60c649", "moveStalledJobsToWait" },
	{ "b5e55563e8084314227a6512b49bbe089f31c6a1", "obliterate" },
	{ "b5e8cf4d8b11d432fad7d3f9a78f55ce7f9e5e58", "pause" },
	{ "b6441576c42681cd02b5d4728b905c9683776814", "moveStalledJobsToWait" },
	{ "b664c961d84797d267ceba3bd745eab0e0020a83", "moveJobFromActiveToWait" },
	{ "b68502558f85f3bf9c5d6b25b1b44e2fcc5d4c92", "removeJobScheduler" },
	{ "b76fe671e4c8e1b5228f54a0d35e92171445ba16", "relayGet" },
	{ "b8c747a0e356511706c99d405e3cc072a5d640c8", "obliterate" },
	{ "b8c8950186e870a4dfcc57e460f7637cd1c25077", "moveStalledJobsToWait" },
	{ "b9081bb0d42d213f995b98158504364591029953", "retryJobs" },
	{ "b93f12f4df1428771f950d866f101570262694ef", "promote" },
	{ "bbb6163481b4e25994b9f80db2d210c99d15e12b", "moveToWaitingChildren" },
	{ "bc8c0fb293881a6f07cd03407410bf7bcbc818e4", "moveJobsToWait" },
	{ "bdfc1cbd057466bb0bd83a826364da54251f2a14", "drain" },
	{ "c01242e2652ac7c1e5f276b7d6c849375b22d1a7", "addRepeatableJob" },
	{ "c0d37cc334f593c7618e8c80a5b3b25f62d30434", "obliterate" },
	{ "c3492fe177eb731466da99249adcb24b4985f0f3", "getCounts" },
	{ "c35baf769e5dc3d9194b2bceca04ab59f7c510f7", "extendLocks" },
	{ "c3cfa32582f9ade154919151a185f23b9d9213b3", "addPrioritizedJob" },
	{ "c53e70beece08e92df56c2f92b46790f25668e99", "moveToWaitingChildren" },
	{ "c6d82cd038935b701b813d1a50c19c03117411d2", "moveToFinished" },
	{ "c7786397397a1d6629aaa61b9621e5ef2559def4", "drain" },
	{ "c7dfdf24d9f50df790149cf0ca449bb227913dbc", "moveToActive" },
	{ "c84d1392710a6fd796c08c0b7d49a079ab5d429d", "reprocessJob" },
	{ "cc4eded989ba9b04d25cc2407a1142f33a30400e", "extendLocks" },
	{ "cc54ad919f8d93cefbdeab649e1c7480dfeae3c6", "moveToFinished" },
	{ "cc9ac326ca56ab0c0d67615b0ed1230b49161753", "removeOrphanedJobs" },
	{ "cd411790726e6c7abd54f743fa6486e22b3c2bd6", "changePriority" },
	{ "cde4aa2dbd6d7545a57a6dd8684ad9448e0ae387", "drain" },
	{ "cf7c7293189ada5991d67a3910ad7ab34d911e5c", "removeChildDependency" },
	{ "cfa968970bd2645be013ca1a50c1a1ae9e680e42", "reprocessJob" },
	{ "d0648fa7d3210282adf66fb4e848369b620e320a", "relayRegisterNode" },
	{ "d1c98954d0616022e2c4da5a7c5cf85789c0fb42", "changePriority" },
	{ "d4451239d13c466bc8d3e705096e4b91e40118d4", "relayGetNamespaces" },
	{ "d4b4530a1de226c532b5256e3dafa5cdc1641a6a", "cleanJobsInSet" },
	{ "d6609dd56f7e79f0c59e9297c2145eec758b3a0f", "relayTrimInbox" },
	{ "d7704f63de52505e835193d552148741ae9770b8", "changeDelay" },
	{ "d797627f66fc304dee2f224b483288e66f7d6e6a", "removeChildDependency" },
	{ "d961aae0df158b3c2887dd8eb7c285294be16d24", "addStandardJob" },
	{ "d96ca626f1ea141b44a856b312fc636d99aa9ea9", "moveToActive" },
	{ "da2d4fc8ed620a4275e4d8af759ac2163c37154a", "retryJob" },
	{ "dacdd0e2e5e50d983ef342714a0475fe3f581e09", "removeJob" },
	{ "dba9616dde7933b2907fded4edda590ee8740d45", "retryJob" },
	{ "dbc6fb94d856ed582e51a006f3f755fc406f8711", "isFinished" },
	{ "dc9605328a4cc37f68acbf27cdd42e393f7b762e", "extendLock" },
	{ "ddd7da9c6be4b31a479136c66425bef0bc2a047f", "updateProgress" },
	{ "de220c4e0e17e976d762e5c2aa0b5015ea32cb50", "changeDelay" },
	{ "de6145b3549ecbdb29f09d7bb9b212c75e120477", "removeRepeatable" },
	{ "e338c0572a61555384431d4024c08d9a64ecba34", "changePriority" },
	{ "e8677e58bb5961ee1a85cf326840d7d437da8968", "moveToFinished" },
	{ "e992d1814b869c8def8e67ef117b3ed2cc95771f", "updateProgress" },
	{ "e9e4419cecac0d787e3060999dac2dd1c11b103a", "getCountsPerPriority" },
	{ "eaca371bf33a8ee4389caf04e69d6d09a8fd12ba", "addDelayedJob" },
	{ "eaec2bf999eb280c6bd0e77a158faf01d265e926", "addParentJob" },
	{ "eb499927f69f6cfb6bf1a04611a4af09c3f76df9", "getDependencyCounts" },
	{ "eecb06ad6c96fa5da4fa8bca0ea7a1bf1bf62f18", "addLog" },
	{ "ef80261381360a737423fe9ad0cd2b577dfa6758", "moveToFinished" },
	{ "f0f78e52f46d4b1890e9aa5786f7323c5518d055", "moveToDelayed" },
	{ "f6e53d983d9a738b45d42bdd1c74e1f0571c4d80", "pause" },
	{ "f7064020cc18bc64f3d44da9b89581294f7a67d3", "getStateV2" },
	{ "f7a840e31d3fc86372a76a6c93ea17ec956c178c", "moveToActive" },
	{ "f909a46b3c0259666779903b2ecb392044bdb4c0", "moveToDelayed" },
	{ "f9db90fbdce019fe4bc29284d83123e75774cb6a", "moveToFinished" },
	{ "fdea3cb84e6f9aa18dd37ab7d710874c5828eb52", "isFinished" },
	{ "fe617ca9ea1bd7528759477a68bb8c056ec32c02", "relayRemoveEndpoint" },
};

const char *bullmq_sha_name(const char *sha, size_t len)
{
	size_t lo = 0, hi = sizeof(sha_names) / sizeof(sha_names[0]);
	char key[41];

	if (len != 40)
		return NULL;
	for (size_t i = 0; i < 40; i++)
		key[i] = (char)((sha[i] >= 'A' && sha[i] <= 'F') ? sha[i] + 32 : sha[i]);
	key[40] = '\0';
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(key, sha_names[mid].sha);

		if (c == 0)
			return sha_names[mid].name;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const char *const script_names[BULLMQ_S__MAX] = {
	[BULLMQ_S_NONE] = NULL,
	[BULLMQ_S_UNKNOWN] = NULL,
	[BULLMQ_S_ADD_STANDARD] = "addStandardJob",
	[BULLMQ_S_ADD_DELAYED] = "addDelayedJob",
	[BULLMQ_S_ADD_PRIORITIZED] = "addPrioritizedJob",
	[BULLMQ_S_ADD_PARENT] = "addParentJob",
	[BULLMQ_S_MOVE_TO_ACTIVE] = "moveToActive",
	[BULLMQ_S_MOVE_TO_FINISHED] = "moveToFinished",
	[BULLMQ_S_MOVE_TO_DELAYED] = "moveToDelayed",
	[BULLMQ_S_RETRY_JOB] = "retryJob",
	[BULLMQ_S_MOVE_STALLED] = "moveStalledJobsToWait",
	[BULLMQ_S_EXTEND_LOCKS] = "extendLocks",
	[BULLMQ_S_EXTEND_LOCK] = "extendLock",
	[BULLMQ_S_GET_COUNTS] = "getCounts",
	[BULLMQ_S_REMOVE_JOB] = "removeJob",
	[BULLMQ_S_META] = NULL,
};

const char *bullmq_script_name(enum bullmq_script s)
{
	return (unsigned)s < BULLMQ_S__MAX ? script_names[s] : NULL;
}

static const char *const op_names[BULLMQ_OP__MAX] = {
	[BULLMQ_OP_ADDED] = "added",	     [BULLMQ_OP_STARTED] = "started",
	[BULLMQ_OP_COMPLETED] = "completed", [BULLMQ_OP_FAILED] = "failed",
	[BULLMQ_OP_RETRIED] = "retried",     [BULLMQ_OP_STALLED] = "stalled",
	[BULLMQ_OP_COUNTS] = "counts",	     [BULLMQ_OP_REMOVED] = "removed",
};

const char *bullmq_op_name(enum bullmq_op op)
{
	return (unsigned)op < BULLMQ_OP__MAX && op_names[op] ? op_names[op] : "unknown";
}

/* ---- key suffixes ---- */

enum sfx {
	SFX_WAIT,
	SFX_PAUSED,
	SFX_META,
	SFX_ID,
	SFX_COMPLETED,
	SFX_FAILED,
	SFX_DELAYED,
	SFX_ACTIVE,
	SFX_EVENTS,
	SFX_MARKER,
	SFX_PRIORITIZED,
	SFX_PRIORITY,
	SFX_STALLED,
	SFX_STALLED_CHECK,
	SFX_LIMITER,
	SFX_PC,
	SFX_REPEAT,
	SFX_WAITING_CHILDREN,
	SFX_METRICS_COMPLETED,
	SFX_METRICS_FAILED,
	SFX_DE,
	SFX__MAX,
	SFX_NONE = 0xff,
};

static const char *const sfx_names[SFX__MAX] = {
	"wait",	       "paused",      "meta",	   "id",	      "completed",
	"failed",      "delayed",     "active",	   "events",	      "marker",
	"prioritized", "priority",    "stalled",   "stalled-check",   "limiter",
	"pc",	       "repeat",      "waiting-children", "metrics:completed", "metrics:failed",
	"de",
};

static int sfx_of(const char *s, size_t n)
{
	for (int i = 0; i < SFX__MAX; i++)
		if (strlen(sfx_names[i]) == n && memcmp(sfx_names[i], s, n) == 0)
			return i;
	return SFX_NONE;
}

static int state_of(const char *s, size_t n)
{
	static const struct {
		const char *n;
		int st;
	} t[] = {
		{ "wait", BULLMQ_ST_WAIT },		{ "waiting", BULLMQ_ST_WAIT },
		{ "paused", BULLMQ_ST_PAUSED },		{ "active", BULLMQ_ST_ACTIVE },
		{ "delayed", BULLMQ_ST_DELAYED },	{ "prioritized", BULLMQ_ST_PRIORITIZED },
		{ "completed", BULLMQ_ST_COMPLETED },	{ "failed", BULLMQ_ST_FAILED },
		{ "waiting-children", BULLMQ_ST_WAITING_CHILDREN },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strlen(t[i].n) == n && memcmp(t[i].n, s, n) == 0)
			return t[i].st;
	return -1;
}

/* ---- tiny msgpack reader (bounded, stops at truncation) ---- */

enum { MP_NIL, MP_BOOL, MP_INT, MP_FLOAT, MP_STR, MP_BIN, MP_ARR, MP_MAP, MP_EXT };

struct mp {
	const uint8_t *p, *end;
};

struct mpv {
	int t;
	int64_t i;
	double d;
	const uint8_t *s;
	uint32_t n;
};

static bool mp_take(struct mp *m, size_t n, const uint8_t **out)
{
	if ((size_t)(m->end - m->p) < n)
		return false;
	*out = m->p;
	m->p += n;
	return true;
}

static bool mp_uint(struct mp *m, size_t n, uint64_t *v)
{
	const uint8_t *b;

	if (!mp_take(m, n, &b))
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++)
		*v = (*v << 8) | b[i];
	return true;
}

static bool mp_next(struct mp *m, struct mpv *v)
{
	const uint8_t *b;
	uint64_t u;
	uint8_t c;

	if (!mp_take(m, 1, &b))
		return false;
	c = *b;
	memset(v, 0, sizeof(*v));
	if (c <= 0x7f) {
		v->t = MP_INT;
		v->i = c;
		return true;
	}
	if (c >= 0xe0) {
		v->t = MP_INT;
		v->i = (int8_t)c;
		return true;
	}
	if ((c & 0xf0) == 0x80 || (c & 0xf0) == 0x90) {
		v->t = (c & 0xf0) == 0x80 ? MP_MAP : MP_ARR;
		v->n = c & 0x0f;
		return true;
	}
	if ((c & 0xe0) == 0xa0) {
		v->t = MP_STR;
		v->n = c & 0x1f;
		return mp_take(m, v->n, &v->s);
	}
	switch (c) {
	case 0xc0:
		v->t = MP_NIL;
		return true;
	case 0xc2:
	case 0xc3:
		v->t = MP_BOOL;
		v->i = c == 0xc3;
		return true;
	case 0xc4:
	case 0xc5:
	case 0xc6:
	case 0xd9:
	case 0xda:
	case 0xdb: {
		size_t w = (c == 0xc4 || c == 0xd9) ? 1 : (c == 0xc5 || c == 0xda) ? 2 : 4;

		v->t = c >= 0xd9 ? MP_STR : MP_BIN;
		if (!mp_uint(m, w, &u) || u > 0xffffffffu)
			return false;
		v->n = (uint32_t)u;
		return mp_take(m, v->n, &v->s);
	}
	case 0xca: {
		uint32_t f32;
		float f;

		if (!mp_uint(m, 4, &u))
			return false;
		f32 = (uint32_t)u;
		memcpy(&f, &f32, 4);
		v->t = MP_FLOAT;
		v->d = f;
		return true;
	}
	case 0xcb:
		if (!mp_uint(m, 8, &u))
			return false;
		memcpy(&v->d, &u, 8);
		v->t = MP_FLOAT;
		return true;
	case 0xcc:
	case 0xcd:
	case 0xce:
	case 0xcf:
		if (!mp_uint(m, (size_t)1 << (c - 0xcc), &u))
			return false;
		v->t = MP_INT;
		v->i = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
		return true;
	case 0xd0:
	case 0xd1:
	case 0xd2:
	case 0xd3: {
		size_t w = (size_t)1 << (c - 0xd0);

		if (!mp_uint(m, w, &u))
			return false;
		v->t = MP_INT;
		if (w < 8 && (u >> (w * 8 - 1)) & 1)
			u |= ~(uint64_t)0 << (w * 8);
		v->i = (int64_t)u;
		return true;
	}
	case 0xdc:
	case 0xdd:
	case 0xde:
	case 0xdf:
		v->t = (c == 0xdc || c == 0xdd) ? MP_ARR : MP_MAP;
		if (!mp_uint(m, (c == 0xdc || c == 0xde) ? 2 : 4, &u) || u > 0xffffffffu)
			return false;
		v->n = (uint32_t)u;
		return true;
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		v->t = MP_EXT;
		return mp_take(m, 1 + ((size_t)1 << (c - 0xd4)), &v->s);
	case 0xc7:
	case 0xc8:
	case 0xc9:
		if (!mp_uint(m, (size_t)1 << (c - 0xc7), &u) || u > 0xffffffffu)
			return false;
		v->t = MP_EXT;
		return mp_take(m, 1 + (size_t)u, &v->s);
	default:
		return false;
	}
}

/* Skip one value; budget bounds the work on hostile nesting. */
static bool mp_skip(struct mp *m, int depth, int *budget)
{
	struct mpv v;

	if (depth > 8 || --*budget < 0 || !mp_next(m, &v))
		return false;
	if (v.t == MP_ARR || v.t == MP_MAP) {
		uint64_t n = (uint64_t)v.n * (v.t == MP_MAP ? 2 : 1);

		for (uint64_t i = 0; i < n; i++)
			if (!mp_skip(m, depth + 1, budget))
				return false;
	}
	return true;
}

static bool mp_number(const struct mpv *v, int64_t *out)
{
	if (v->t == MP_INT) {
		*out = v->i;
		return true;
	}
	if (v->t == MP_FLOAT && v->d > -9e18 && v->d < 9e18) {
		*out = (int64_t)v->d;
		return true;
	}
	return false;
}

/* ---- tiny JSON scan: an integer value of a top-level key ---- */

/* 1 found, 0 absent (document complete), -1 unknown (truncated or malformed). */
static int json_top_int(const uint8_t *s, size_t n, bool complete, const char *key, int64_t *out)
{
	size_t klen = strlen(key);
	int depth = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '"') {
			size_t st = ++i;

			while (i < n && s[i] != '"')
				i += s[i] == '\\' ? 2 : 1;
			if (i >= n)
				return -1;
			if (depth == 1 && i - st == klen && memcmp(s + st, key, klen) == 0) {
				size_t j = i + 1;
				bool neg = false;
				int64_t v = 0;
				int nd = 0;

				while (j < n && (s[j] == ' ' || s[j] == ':'))
					j++;
				if (j < n && s[j] == '-') {
					neg = true;
					j++;
				}
				for (; j < n && s[j] >= '0' && s[j] <= '9' && nd < 18; j++, nd++)
					v = v * 10 + (s[j] - '0');
				if (!nd || j >= n)
					return -1;
				*out = neg ? -v : v;
				return 1;
			}
		}
	}
	return complete ? 0 : -1;
}

/* ---- classification ---- */

struct cmdargs {
	const struct resp_frame *f;
	const struct resp_item *a[RESP_MAX_ITEMS];
	uint32_t n;		/* args kept (a[0] = command name) */
	int64_t nk;		/* EVAL numkeys */
};

static const struct resp_item *arg(const struct cmdargs *c, uint32_t i)
{
	return i < c->n ? c->a[i] : NULL;
}

static const struct resp_item *key(const struct cmdargs *c, uint32_t i)	/* 1-based */
{
	return i >= 1 && (int64_t)i <= c->nk ? arg(c, 2 + i) : NULL;
}

static const struct resp_item *argv(const struct cmdargs *c, uint32_t i)	/* 1-based */
{
	return i >= 1 ? arg(c, (uint32_t)(2 + c->nk + i)) : NULL;
}

static bool whole(const struct resp_item *it)
{
	return it && it->type == '$' && !(it->flags & (RESP_IF_PART | RESP_IF_NULL)) &&
	       it->len == (int64_t)it->kept;
}

static const char *sdata(const struct cmdargs *c, const struct resp_item *it, size_t *n)
{
	return (const char *)resp_item_data(c->f, it, n);
}

static bool arg_is(const struct cmdargs *c, const struct resp_item *it, const char *s)
{
	return resp_item_eq(c->f, it, s);
}

static bool arg_int(const struct cmdargs *c, const struct resp_item *it, int64_t *v)
{
	return resp_item_int(c->f, it, v);
}

static void copy_str(char *dst, size_t size, const char *s, size_t n)
{
	if (n > size - 1)
		n = size - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int colons(const char *s, size_t n)
{
	int k = 0;

	for (size_t i = 0; i < n; i++)
		k += s[i] == ':';
	return k;
}

struct shape {
	char base[BULLMQ_BASE_MAX];
	size_t blen;
	uint32_t sfx;			/* bitmask of suffixes present */
	int first[3];			/* suffixes of KEYS[1..3], SFX_NONE if not one */
	const struct resp_item *job_key;	/* first key that is base + <id> */
	int job_key_pos;		/* 1-based */
};

/* How many keys are base + known suffix. */
static int base_score(const struct cmdargs *c, const char *b, size_t bl)
{
	int score = 0;

	for (uint32_t k = 1; k <= (uint32_t)c->nk && k <= 32; k++) {
		const struct resp_item *it = key(c, k);
		size_t n;
		const char *s;

		if (!whole(it))
			continue;
		s = sdata(c, it, &n);
		if (n > bl && memcmp(s, b, bl) == 0 && sfx_of(s + bl, n - bl) != SFX_NONE)
			score++;
	}
	return score;
}

static bool find_shape(const struct cmdargs *c, struct shape *sh)
{
	int best = 0;

	memset(sh, 0, sizeof(*sh));
	sh->first[0] = sh->first[1] = sh->first[2] = SFX_NONE;
	/* KEYS[1] may be the base itself ("bull:q:", getCounts). */
	if (whole(key(c, 1))) {
		size_t n;
		const char *s = sdata(c, key(c, 1), &n);

		if (n >= 4 && n < BULLMQ_BASE_MAX && s[n - 1] == ':' && colons(s, n) >= 2) {
			memcpy(sh->base, s, n);
			sh->blen = n;
			best = 1;
		}
	}
	for (uint32_t k = 1; k <= 3 && (int64_t)k <= c->nk && !sh->blen; k++) {
		const struct resp_item *it = key(c, k);
		const char *s;
		size_t n;

		if (!whole(it))
			continue;
		s = sdata(c, it, &n);
		/* Each known suffix of this key proposes a base; keep the best-supported. */
		for (int x = 0; x < SFX__MAX; x++) {
			size_t sl = strlen(sfx_names[x]);
			size_t bl;
			int score;

			if (n <= sl + 1 || s[n - sl - 1] != ':' || memcmp(s + n - sl, sfx_names[x], sl))
				continue;
			bl = n - sl;
			if (bl >= BULLMQ_BASE_MAX || colons(s, bl) < 2)
				continue;
			score = base_score(c, s, bl);
			if (score > best || (score == best && bl > sh->blen)) {
				best = score;
				memcpy(sh->base, s, bl);
				sh->blen = bl;
			}
		}
	}
	if (!sh->blen)
		return false;
	sh->base[sh->blen] = '\0';
	for (uint32_t k = 1; k <= (uint32_t)c->nk && k <= 32; k++) {
		const struct resp_item *it = key(c, k);
		const char *s;
		size_t n;
		int x;

		if (!whole(it))
			continue;
		s = sdata(c, it, &n);
		if (n < sh->blen || memcmp(s, sh->base, sh->blen))
			continue;
		x = n > sh->blen ? sfx_of(s + sh->blen, n - sh->blen) : SFX_NONE;
		if (k <= 3)
			sh->first[k - 1] = x;
		if (x != SFX_NONE)
			sh->sfx |= 1u << x;
		else if (n > sh->blen && !sh->job_key) {
			sh->job_key = it;
			sh->job_key_pos = (int)k;
		}
	}
	return true;
}

static bool has(const struct shape *sh, int x)
{
	return sh->sfx & (1u << x);
}

static void set_job_from_key(const struct cmdargs *c, const struct shape *sh,
			     struct bullmq_call *call)
{
	size_t n;
	const char *s;

	if (!sh->job_key)
		return;
	s = sdata(c, sh->job_key, &n);
	copy_str(call->job_id, sizeof(call->job_id), s + sh->blen, n - sh->blen);
}

static void set_job_from_arg(const struct cmdargs *c, const struct resp_item *it,
			     struct bullmq_call *call)
{
	size_t n;
	const char *s;

	if (!whole(it) || it->kept == 0 || it->kept >= BULLMQ_ID_MAX)
		return;
	s = sdata(c, it, &n);
	copy_str(call->job_id, sizeof(call->job_id), s, n);
}

static void set_reason(const struct cmdargs *c, const struct resp_item *it,
		       struct bullmq_call *call)
{
	size_t n;
	const char *s;

	if (!it || it->type != '$')
		return;
	s = sdata(c, it, &n);
	copy_str(call->reason, sizeof(call->reason), s, n);
}

/* A retry's reason (moveToDelayed, retryJob; 5.x/6.x): one ARGV is the
 * msgpack of the fields to update, [ "failedReason", <reason>, "stacktrace",
 * ...]. The reason may be cut by the kept prefix: take what is there. */
static void set_retry_reason(const struct cmdargs *c, struct bullmq_call *call)
{
	for (int i = 4; i <= 9; i++) {
		const struct resp_item *it = argv(c, i);
		struct mp m;
		struct mpv v;
		size_t n, len, hdr;
		const uint8_t *p;

		if (!it || it->type != '$')
			continue;
		m.p = (const uint8_t *)sdata(c, it, &n);
		m.end = m.p + n;
		if (!mp_next(&m, &v) || v.t != MP_ARR || v.n < 2)
			continue;
		if (!mp_next(&m, &v) || v.t != MP_STR || v.n != 12 || memcmp(v.s, "failedReason", 12))
			continue;
		p = m.p;
		if (p >= m.end)
			return;
		if ((*p & 0xe0) == 0xa0)
			hdr = 1, len = *p & 0x1f;
		else if (*p == 0xd9 && m.end - p >= 2)
			hdr = 2, len = p[1];
		else if (*p == 0xda && m.end - p >= 3)
			hdr = 3, len = (size_t)p[1] << 8 | p[2];
		else
			return;	/* not a string (nil), or its length was cut */
		if (len > (size_t)(m.end - p) - hdr)
			len = (size_t)(m.end - p) - hdr;
		copy_str(call->reason, sizeof(call->reason), (const char *)p + hdr, len);
		return;
	}
}

static void set_ts(const struct cmdargs *c, const struct resp_item *it, struct bullmq_call *call)
{
	int64_t v;

	if (arg_int(c, it, &v) && v > 0)
		call->ts_ms = v;
}

/* add*: ARGV[1] = msgpack [base, customId, name, timestamp, ...]; ARGV[3] = opts map. */
static bool classify_add(const struct cmdargs *c, const struct shape *sh, struct bullmq_call *call)
{
	const struct resp_item *a1 = argv(c, 1), *a3 = argv(c, 3);
	struct mp m;
	struct mpv v;
	size_t n;
	int64_t x;

	if (!a1 || a1->type != '$')
		return false;
	m.p = (const uint8_t *)sdata(c, a1, &n);
	m.end = m.p + n;
	if (!mp_next(&m, &v) || v.t != MP_ARR || v.n < 4)
		return false;
	if (!mp_next(&m, &v) || v.t != MP_STR || v.n != sh->blen || memcmp(v.s, sh->base, v.n))
		return false;
	if (has(sh, SFX_WAITING_CHILDREN))
		call->script = BULLMQ_S_ADD_PARENT;
	else if (has(sh, SFX_WAIT))
		call->script = BULLMQ_S_ADD_STANDARD;
	else if (has(sh, SFX_PRIORITIZED) || has(sh, SFX_PRIORITY))
		call->script = BULLMQ_S_ADD_PRIORITIZED;
	else if (has(sh, SFX_DELAYED))
		call->script = BULLMQ_S_ADD_DELAYED;
	else
		return false;
	if (mp_next(&m, &v) && v.t == MP_STR && v.n > 0)
		call->flags |= BULLMQ_CF_CUSTOM_ID;
	if (mp_next(&m, &v) && mp_next(&m, &v) && mp_number(&v, &x) && x > 0)
		call->created_ms = x;
	/* opts: a map; find "delay" and "de" (deduplication, 5.x+). */
	if (a3 && a3->type == '$') {
		int budget = 256;

		m.p = (const uint8_t *)sdata(c, a3, &n);
		m.end = m.p + n;
		if (mp_next(&m, &v) && v.t == MP_MAP) {
			for (uint32_t i = 0; i < v.n && i < 64; i++) {
				struct mpv k, val;

				if (!mp_next(&m, &k))
					break;
				if (k.t == MP_STR && k.n == 5 && memcmp(k.s, "delay", 5) == 0) {
					if (!mp_next(&m, &val))
						break;
					if (mp_number(&val, &x) && x >= 0)
						call->delay_ms = x;
					continue;
				}
				if (k.t == MP_STR && k.n == 2 && memcmp(k.s, "de", 2) == 0)
					call->flags |= BULLMQ_CF_DEDUP;
				if (!mp_skip(&m, 0, &budget))
					break;
			}
		}
	}
	return true;
}

static bool classify_counts(const struct cmdargs *c, struct bullmq_call *call)
{
	uint32_t nargs = c->n > 3 + (uint32_t)c->nk ? c->n - 3 - (uint32_t)c->nk : 0;
	uint32_t i = 1;
	int64_t ts;

	if (nargs == 0)
		return false;
	if (arg_int(c, argv(c, 1), &ts))	/* optional leading timestamp */
		i = 2;
	if (i > nargs)
		return false;
	for (; i <= nargs; i++) {
		const struct resp_item *it = argv(c, i);
		size_t n;
		const char *s;
		int st;

		if (!whole(it))
			return false;
		s = sdata(c, it, &n);
		st = state_of(s, n);
		if (st < 0)
			return false;
		if (call->nstates < BULLMQ_MAX_STATES)
			call->states[call->nstates++] = (uint8_t)st;
	}
	call->script = BULLMQ_S_GET_COUNTS;
	return true;
}

static void classify_script(const struct cmdargs *c, struct bullmq_call *call)
{
	struct shape sh;
	const struct resp_item *a3 = argv(c, 3), *a5 = argv(c, 5);

	if (!find_shape(c, &sh))
		return;
	call->script = BULLMQ_S_UNKNOWN;
	call->by = BULLMQ_BY_SHAPE;
	memcpy(call->base, sh.base, sh.blen + 1);

	if ((arg_is(c, a3, "returnvalue") || arg_is(c, a3, "failedReason")) &&
	    (arg_is(c, a5, "completed") || arg_is(c, a5, "failed"))) {
		call->script = BULLMQ_S_MOVE_TO_FINISHED;
		set_job_from_arg(c, argv(c, 1), call);
		if (!call->job_id[0])
			set_job_from_key(c, &sh, call);
		set_ts(c, argv(c, 2), call);
		if (arg_is(c, a5, "failed")) {
			call->flags |= BULLMQ_CF_FAILED;
			set_reason(c, argv(c, 4), call);
		}
		return;
	}
	if (sh.first[0] == SFX_STALLED && has(&sh, SFX_STALLED_CHECK)) {
		call->script = BULLMQ_S_MOVE_STALLED;
		set_ts(c, argv(c, 3), call);
		return;
	}
	if (c->nk == 1 && sh.first[0] == SFX_STALLED) {
		call->script = BULLMQ_S_EXTEND_LOCKS;
		return;
	}
	if (c->nk == 2 && sh.job_key_pos == 1 && sh.first[1] == SFX_STALLED) {
		size_t n;

		call->script = BULLMQ_S_EXTEND_LOCK;
		set_job_from_key(c, &sh, call);
		n = strlen(call->job_id);
		if (n > 5 && !strcmp(call->job_id + n - 5, ":lock"))
			call->job_id[n - 5] = '\0';
		return;
	}
	if (sh.first[0] == SFX_WAIT && sh.first[1] == SFX_ACTIVE &&
	    (sh.first[2] == SFX_PRIORITIZED || sh.first[2] == SFX_PRIORITY) && !sh.job_key &&
	    !has(&sh, SFX_COMPLETED) && !has(&sh, SFX_FAILED) && arg_is(c, argv(c, 1), sh.base)) {
		call->script = BULLMQ_S_MOVE_TO_ACTIVE;
		set_ts(c, argv(c, 2), call);
		return;
	}
	if (sh.job_key && has(&sh, SFX_ACTIVE) && (arg_is(c, a3, "LPUSH") || arg_is(c, a3, "RPUSH"))) {
		call->script = BULLMQ_S_RETRY_JOB;
		set_job_from_key(c, &sh, call);
		set_ts(c, argv(c, 2), call);
		set_retry_reason(c, call);
		call->delay_ms = 0;
		return;
	}
	if (sh.job_key && has(&sh, SFX_ACTIVE) && has(&sh, SFX_DELAYED) &&
	    !has(&sh, SFX_COMPLETED) && !has(&sh, SFX_FAILED)) {
		int64_t d;

		call->script = BULLMQ_S_MOVE_TO_DELAYED;
		set_job_from_key(c, &sh, call);
		set_ts(c, argv(c, 2), call);
		set_retry_reason(c, call);
		/* 5.x/6.x: [prefix, ts, id, token, delay, skipAttempt, ...]; 4.x: [prefix, ts, delayedTs, id, token, delay]. */
		if (arg_is(c, argv(c, 3), call->job_id)) {
			if (arg_int(c, argv(c, 5), &d) && d >= 0)
				call->delay_ms = d;
			if (arg_is(c, argv(c, 6), "1"))
				call->flags |= BULLMQ_CF_SKIP_ATTEMPT;
		} else if (arg_is(c, argv(c, 4), call->job_id)) {
			if (arg_int(c, argv(c, 6), &d) && d >= 0)
				call->delay_ms = d;
		}
		return;
	}
	if (sh.job_key_pos == 1 && c->nk == 2 && sh.first[1] == SFX_REPEAT) {
		call->script = BULLMQ_S_REMOVE_JOB;
		set_job_from_key(c, &sh, call);
		return;
	}
	if (c->nk == 1 && key(c, 1) && sh.blen == key(c, 1)->kept && !sh.job_key) {
		if (classify_counts(c, call))
			return;
		if (c->n == 3 + 1 + 2 && (arg_is(c, argv(c, 2), "0") || arg_is(c, argv(c, 2), "1"))) {
			call->script = BULLMQ_S_REMOVE_JOB;	/* 4.x: [base] [id, removeChildren] */
			set_job_from_arg(c, argv(c, 1), call);
			return;
		}
	}
	if (classify_add(c, &sh, call))
		return;
	/*
	 * Capture cut before ARGV[1] (a burst of adds gets short prefixes): the
	 * <q>:id key (INCR for the next job id) with a wait, delayed or
	 * prioritized key, and no repeat key (job schedulers), is an add.
	 */
	if (!argv(c, 1) && has(&sh, SFX_ID) && !has(&sh, SFX_REPEAT) && !sh.job_key) {
		if (has(&sh, SFX_WAITING_CHILDREN))
			call->script = BULLMQ_S_ADD_PARENT;
		else if (has(&sh, SFX_WAIT))
			call->script = BULLMQ_S_ADD_STANDARD;
		else if (has(&sh, SFX_PRIORITIZED) || has(&sh, SFX_PRIORITY))
			call->script = BULLMQ_S_ADD_PRIORITIZED;
		else if (has(&sh, SFX_DELAYED))
			call->script = BULLMQ_S_ADD_DELAYED;
	}
}

/* HSET/HMSET <base>meta ... version bullmq:x */
static void classify_meta(const struct cmdargs *c, struct bullmq_call *call)
{
	const struct resp_item *k = arg(c, 1);
	size_t n;
	const char *s;

	if (!whole(k))
		return;
	s = sdata(c, k, &n);
	if (n < 6 || n - 5 >= BULLMQ_BASE_MAX || memcmp(s + n - 5, ":meta", 5) ||
	    colons(s, n - 4) < 2)
		return;
	for (uint32_t i = 2; i + 1 < c->n; i += 2) {
		if (arg_is(c, arg(c, i), "version")) {
			call->script = BULLMQ_S_META;
			call->by = BULLMQ_BY_SHAPE;
			copy_str(call->base, sizeof(call->base), s, n - 4);
			set_reason(c, arg(c, i + 1), call);
			return;
		}
	}
}

bool bullmq_classify(const struct resp_view *cmd, struct bullmq_call *call)
{
	struct cmdargs c;
	const struct resp_item *root = resp_view_item(cmd);
	bool eval, evalsha;

	memset(call, 0, sizeof(*call));
	call->ts_ms = call->delay_ms = call->created_ms = -1;
	if (!root || root->type != '*')
		return false;
	c.f = cmd->f;
	c.n = 0;
	c.nk = 0;
	for (uint32_t i = cmd->first + 1; i < cmd->end && c.n < RESP_MAX_ITEMS; i++)
		if (cmd->f->items[i].depth == root->depth + 1)
			c.a[c.n++] = &cmd->f->items[i];
	if (c.n == 0)
		return false;
	eval = resp_item_eq_nocase(c.f, c.a[0], "EVAL");
	evalsha = resp_item_eq_nocase(c.f, c.a[0], "EVALSHA");
	if (eval || evalsha) {
		int64_t nk;

		if (!arg_int(&c, arg(&c, 2), &nk) || nk < 0 || nk > 64)
			return false;
		c.nk = nk;
		if (eval)
			call->flags |= BULLMQ_CF_EVAL;
		classify_script(&c, call);
		if (evalsha && whole(arg(&c, 1)) &&
		    (call->script == BULLMQ_S_UNKNOWN || call->script == BULLMQ_S_NONE)) {
			size_t n;
			const char *s = sdata(&c, arg(&c, 1), &n);
			const char *hint = bullmq_sha_name(s, n);

			/* The hint only names the script: ops come from shapes alone. */
			if (hint) {
				call->name = hint;
				call->script = BULLMQ_S_UNKNOWN;
				call->by = BULLMQ_BY_SHA;
			}
		}
		if (!call->name)
			call->name = bullmq_script_name((enum bullmq_script)call->script);
		return call->script != BULLMQ_S_NONE;
	}
	if (resp_item_eq_nocase(c.f, c.a[0], "HSET") || resp_item_eq_nocase(c.f, c.a[0], "HMSET"))
		classify_meta(&c, call);
	return call->script != BULLMQ_S_NONE;
}

static bool is_err(const struct resp_item *it)
{
	return it && (it->type == '-' || it->type == '!');
}

static bool is_arr(const struct resp_item *it)
{
	return it && (it->type == '*' || it->type == '~') && !(it->flags & RESP_IF_NULL);
}

bool bullmq_reply_fits(const struct bullmq_call *call, const struct resp_view *reply)
{
	const struct resp_item *t = reply ? resp_view_item(reply) : NULL;

	if (!t || is_err(t))
		return true;
	switch (call->script) {
	case BULLMQ_S_ADD_STANDARD:
	case BULLMQ_S_ADD_DELAYED:
	case BULLMQ_S_ADD_PRIORITIZED:
	case BULLMQ_S_ADD_PARENT:
		return (t->type == '$' && !(t->flags & RESP_IF_NULL)) || t->type == ':';
	case BULLMQ_S_MOVE_TO_ACTIVE:
		return is_arr(t) && t->len >= 2;
	case BULLMQ_S_MOVE_TO_FINISHED:
	case BULLMQ_S_MOVE_TO_DELAYED:
	case BULLMQ_S_RETRY_JOB:
		return t->type == ':' || (is_arr(t) && t->len >= 2);
	case BULLMQ_S_MOVE_STALLED:
	case BULLMQ_S_EXTEND_LOCKS:
		return is_arr(t);
	case BULLMQ_S_GET_COUNTS:
		return is_arr(t) && (call->nstates == 0 || t->len == call->nstates);
	case BULLMQ_S_REMOVE_JOB:
		return t->type == ':';
	default:
		return true;
	}
}

/* ---- stateful inference ---- */

enum job_state {
	JOB_FREE = 0,
	JOB_ACTIVE,		/* started, not finished */
	JOB_DELAYED,		/* delayed add or retry with backoff: due at ready_ms */
	JOB_WAITING,		/* back in wait (retry, stalled, promoted): since ready_ms */
};

struct job {
	uint8_t state;
	uint8_t __pad;
	uint16_t q;
	uint32_t attempt;	/* of the start seen (ats), 0 unknown */
	int64_t processed_ms;	/* app clock of the start, -1 */
	int64_t ready_ms;	/* app clock since when it waits / when it is due */
	uint64_t start_ns;	/* capture clock of the start reply */
	/* A later attempt's start read before this attempt's end: another
	 * worker fetched the retried job before the first one read the reply
	 * of its retry. It takes over when that end comes. next_attempt 0:
	 * none. */
	uint32_t next_attempt;
	int64_t next_processed_ms;
	uint64_t next_start_ns;
	uint64_t touch_ns;	/* last update, for eviction */
	char id[BULLMQ_ID_MAX];
};

/* Starts of jobs whose add reply was not read yet, per queue (see apply()). */
#define OWED_MAX 8

struct queue {
	char base[BULLMQ_BASE_MAX];
	char prefix[BULLMQ_BASE_MAX];
	char name[BULLMQ_BASE_MAX];
	char version[32];
	int64_t active;
	int64_t depth;
	bool anchored;
	int64_t counts[BULLMQ_ST__MAX];
	int64_t last_auto_id;
	uint32_t n_delayed;
	int64_t next_due_ms;
	/* Jobs started while nothing counted as waiting: their add's reply,
	 * when read later, must not count them as waiting. A ring: the oldest
	 * (a job added before we looked, by a connection we do not see) goes. */
	char owed[OWED_MAX][BULLMQ_ID_MAX];
	uint8_t owed_next;
};

/* Internal ops: the public ones plus a few that only move state. */
enum {
	OPI_ANCHOR_EMPTY = BULLMQ_OP__MAX,	/* empty fetch: nothing waiting */
	OPI_META,
};

/* op.kind */
enum {
	K_NONE = 0,
	K_ADD_WAIT,		/* goes to wait (or prioritized) */
	K_ADD_DELAYED,
	K_ADD_PARENT,
	K_RETRY_DELAYED,
	K_RETRY_NOW,
};

struct op {
	uint8_t op;
	uint8_t kind;
	uint8_t custom_id;
	uint8_t dedup;		/* add with a deduplication id */
	uint32_t attempt;
	uint64_t epoch;
	uint64_t ts_req, ts_reply;
	int64_t app_ms;		/* STARTED: processedOn; finish/retry: finishedOn / now; STALLED: now */
	int64_t created_ms;
	int64_t delay_ms;
	int64_t wait_ms;
	int64_t counts[BULLMQ_ST__MAX];
	char base[BULLMQ_BASE_MAX];
	char job_id[BULLMQ_ID_MAX];
	char reason[BULLMQ_REASON_MAX];
};

struct bullmq {
	bullmq_cb cb;
	void *ctx;
	struct bullmq_limits lim;
	struct bullmq_stats stats;
	struct queue *queues;
	uint32_t nqueues;
	struct job *jobs;	/* open addressing, linear probing */
	uint32_t jobs_cap;	/* power of two, >= 2 * max_jobs */
	uint32_t njobs;
	struct op *staged;
	uint32_t nstaged;
	bool clock_known;
	int64_t clock_off_ms;	/* app wall clock ms - capture clock ms */
};

struct bullmq *bullmq__new(const struct bullmq_limits *lim, bullmq_cb cb, void *ctx)
{
	struct bullmq *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->cb = cb;
	b->ctx = ctx;
	b->lim.max_queues = lim && lim->max_queues ? lim->max_queues : 256;
	b->lim.max_jobs = lim && lim->max_jobs ? lim->max_jobs : 8192;
	b->lim.max_staged = lim && lim->max_staged ? lim->max_staged : 1024;
	if (b->lim.max_queues > 65535)
		b->lim.max_queues = 65535;
	if (b->lim.max_jobs > (1u << 24))
		b->lim.max_jobs = 1u << 24;
	b->jobs_cap = 16;
	while (b->jobs_cap < 2 * b->lim.max_jobs)
		b->jobs_cap <<= 1;
	b->queues = calloc(b->lim.max_queues, sizeof(*b->queues));
	b->jobs = calloc(b->jobs_cap, sizeof(*b->jobs));
	b->staged = calloc(b->lim.max_staged, sizeof(*b->staged));
	if (!b->queues || !b->jobs || !b->staged) {
		bullmq__free(b);
		errno = ENOMEM;
		return NULL;
	}
	return b;
}

void bullmq__free(struct bullmq *b)
{
	if (!b)
		return;
	free(b->queues);
	free(b->jobs);
	free(b->staged);
	free(b);
}

const struct bullmq_stats *bullmq__stats(const struct bullmq *b)
{
	return &b->stats;
}

size_t bullmq__queue_count(const struct bullmq *b)
{
	return b->nqueues;
}

bool bullmq__queue_info(const struct bullmq *b, size_t idx, struct bullmq_queue_info *out)
{
	const struct queue *q;

	if (idx >= b->nqueues)
		return false;
	q = &b->queues[idx];
	out->queue = q->name;
	out->prefix = q->prefix;
	out->version = q->version;
	out->active = q->active;
	out->depth = q->depth;
	out->depth_anchored = q->anchored;
	memcpy(out->counts, q->counts, sizeof(out->counts));
	return true;
}

static struct queue *queue_get(struct bullmq *b, const char *base)
{
	struct queue *q;
	size_t n = strlen(base);
	const char *c;

	if (n < 2)
		return NULL;
	for (uint32_t i = 0; i < b->nqueues; i++)
		if (strcmp(b->queues[i].base, base) == 0)
			return &b->queues[i];
	if (b->nqueues >= b->lim.max_queues) {
		b->stats.queues_dropped++;
		return NULL;
	}
	q = &b->queues[b->nqueues++];
	memset(q, 0, sizeof(*q));
	copy_str(q->base, sizeof(q->base), base, n);
	/* "<prefix>:<queue>:" -> prefix (may hold ':'), queue (the last segment). */
	n--;
	c = memrchr(base, ':', n);
	if (c) {
		copy_str(q->prefix, sizeof(q->prefix), base, (size_t)(c - base));
		copy_str(q->name, sizeof(q->name), c + 1, n - (size_t)(c - base) - 1);
	} else {
		copy_str(q->name, sizeof(q->name), base, n);
	}
	for (int s = 0; s < BULLMQ_ST__MAX; s++)
		q->counts[s] = -1;
	q->next_due_ms = INT64_MAX;
	return q;
}

static uint32_t job_hash(uint16_t q, const char *id)
{
	uint32_t h = 2166136261u ^ q;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h;
}

static struct job *job_find(struct bullmq *b, uint16_t q, const char *id)
{
	uint32_t mask = b->jobs_cap - 1, i = job_hash(q, id) & mask;

	if (!id[0])
		return NULL;
	for (uint32_t probe = 0; probe < b->jobs_cap; probe++, i = (i + 1) & mask) {
		struct job *j = &b->jobs[i];

		if (j->state == JOB_FREE)
			return NULL;
		if (j->q == q && strcmp(j->id, id) == 0)
			return j;
	}
	return NULL;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void job_del(struct bullmq *b, struct job *j)
{
	uint32_t mask = b->jobs_cap - 1, i = (uint32_t)(j - b->jobs), k = i;

	j->state = JOB_FREE;
	b->njobs--;
	for (uint32_t probe = 0; probe < b->jobs_cap; probe++) {
		uint32_t home;

		k = (k + 1) & mask;
		if (b->jobs[k].state == JOB_FREE)
			return;
		home = job_hash(b->jobs[k].q, b->jobs[k].id) & mask;
		/* Move k into the hole i if its home is not in (i, k]. */
		if ((k > i && (home <= i || home > k)) || (k < i && home <= i && home > k)) {
			b->jobs[i] = b->jobs[k];
			b->jobs[k].state = JOB_FREE;
			i = k;
		}
	}
}

static void queue_job_gone(struct bullmq *b, struct job *j)
{
	struct queue *q = &b->queues[j->q];

	if (j->state == JOB_ACTIVE && q->active > 0)
		q->active--;
	if (j->state == JOB_DELAYED && q->n_delayed > 0)
		q->n_delayed--;
}

static struct job *job_add(struct bullmq *b, uint16_t q, const char *id, uint64_t now_ns)
{
	uint32_t mask = b->jobs_cap - 1, i;

	if (!id[0])
		return NULL;
	if (b->njobs >= b->lim.max_jobs) {
		struct job *old = NULL;

		for (uint32_t k = 0; k < b->jobs_cap; k++)
			if (b->jobs[k].state != JOB_FREE &&
			    (!old || b->jobs[k].touch_ns < old->touch_ns))
				old = &b->jobs[k];
		if (!old) {
			b->stats.jobs_untracked++;
			return NULL;
		}
		queue_job_gone(b, old);
		job_del(b, old);
		b->stats.jobs_evicted++;
	}
	for (i = job_hash(q, id) & mask; b->jobs[i].state != JOB_FREE; i = (i + 1) & mask)
		;
	memset(&b->jobs[i], 0, sizeof(b->jobs[i]));
	b->jobs[i].q = q;
	copy_str(b->jobs[i].id, sizeof(b->jobs[i].id), id, strlen(id));
	b->jobs[i].processed_ms = -1;
	b->jobs[i].ready_ms = -1;
	b->jobs[i].touch_ns = now_ns;
	b->njobs++;
	return &b->jobs[i];
}

static int64_t now_app_ms(const struct bullmq *b, uint64_t ts_ns)
{
	return b->clock_known ? (int64_t)(ts_ns / 1000000) + b->clock_off_ms : -1;
}

/* Delayed jobs whose due time passed are waiting now. */
static void promote_due(struct bullmq *b, struct queue *q, uint16_t qi, uint64_t ts_ns)
{
	int64_t now = now_app_ms(b, ts_ns), next = INT64_MAX;
	uint32_t seen = 0;

	if (!q->n_delayed || now < 0 || now < q->next_due_ms)
		return;
	for (uint32_t k = 0; k < b->jobs_cap; k++) {
		struct job *j = &b->jobs[k];

		if (j->state != JOB_DELAYED || j->q != qi)
			continue;
		seen++;
		if (j->ready_ms <= now) {
			j->state = JOB_WAITING;
			q->depth++;
		} else if (j->ready_ms < next) {
			next = j->ready_ms;
		}
	}
	q->next_due_ms = next;
	q->n_delayed = 0;
	for (uint32_t k = 0; k < b->jobs_cap && seen; k++)
		if (b->jobs[k].state == JOB_DELAYED && b->jobs[k].q == qi)
			q->n_delayed++;
}

static void emit(struct bullmq *b, const struct queue *q, const struct op *o,
		 const struct bullmq_event *ev_in)
{
	struct bullmq_event ev = *ev_in;

	ev.op = (enum bullmq_op)o->op;
	ev.queue = q->name;
	ev.prefix = q->prefix;
	ev.job_id = o->job_id;
	ev.ts_ns = o->ts_reply;
	ev.reason = o->reason;
	ev.active = q->active;
	ev.depth = q->depth;
	b->stats.ops[o->op]++;
	if (b->cb)
		b->cb(b->ctx, &ev);
}

static void depth_dec(struct queue *q)
{
	if (q->depth > 0)
		q->depth--;
}

static void owed_put(struct queue *q, const char *id)
{
	copy_str(q->owed[q->owed_next], sizeof(q->owed[0]), id, strlen(id));
	q->owed_next = (uint8_t)((q->owed_next + 1) % OWED_MAX);
}

/* Was this job started while depth was 0? Forgets it. */
static bool owed_take(struct queue *q, const char *id)
{
	for (int i = 0; i < OWED_MAX; i++)
		if (q->owed[i][0] && strcmp(q->owed[i], id) == 0) {
			q->owed[i][0] = '\0';
			return true;
		}
	return false;
}

/* Durations of the attempt that just ended; removes the active mark. */
static void attempt_end(struct bullmq *b, struct queue *q, struct job *j, const struct op *o,
			struct bullmq_event *ev)
{
	if (j && j->state == JOB_ACTIVE) {
		/* The finish names no attempt: it ends the one that started. */
		ev->attempt = j->attempt;
		if (o->app_ms > 0 && j->processed_ms > 0)
			ev->duration_ms = o->app_ms - j->processed_ms;
		if (o->ts_req >= j->start_ns)
			ev->duration_ns = (int64_t)(o->ts_req - j->start_ns);
		if (q->active > 0)
			q->active--;
		j->state = JOB_WAITING;	/* caller decides what follows */
	} else {
		b->stats.finish_unseen_start++;
	}
}

static void apply(struct bullmq *b, const struct op *o)
{
	struct bullmq_event ev = {
		.wait_ms = -1, .duration_ms = -1, .duration_ns = -1, .delay_ms = o->delay_ms,
	};
	struct queue *q = queue_get(b, o->base);
	uint16_t qi;
	struct job *j;

	if (!q)
		return;
	qi = (uint16_t)(q - b->queues);
	promote_due(b, q, qi, o->ts_reply);
	j = job_find(b, qi, o->job_id);
	if (j)
		j->touch_ns = o->ts_reply;

	switch (o->op) {
	case BULLMQ_OP_ADDED: {
		int64_t id;
		char *end;

		/*
		 * Auto ids come from INCR <q>:id. An add with a deduplication
		 * id that returns one at or below the last seen returns an
		 * existing job: not new. Without one, an add always makes a new
		 * job, whatever its id: the replies of several producers are
		 * read in either order.
		 */
		id = strtoll(o->job_id, &end, 10);
		if (!o->custom_id && o->job_id[0] && !*end) {
			if (o->dedup && id <= q->last_auto_id) {
				b->stats.duplicates++;
				return;
			}
			if (id > q->last_auto_id)
				q->last_auto_id = id;
		}
		/*
		 * Replies on different connections are read in either order:
		 * a worker can read the start of a job (fetched when the add's
		 * marker woke it) before the producer reads the add's reply.
		 * That start took the job off depth, or could not (depth 0:
		 * owed); either way the job is not waiting now.
		 */
		if (o->kind != K_ADD_PARENT && o->job_id[0] && owed_take(q, o->job_id))
			break;
		if (j && o->kind != K_ADD_PARENT) {
			q->depth++;	/* gives back what its start took */
			break;
		}
		if (o->kind == K_ADD_DELAYED) {
			int64_t due = o->created_ms > 0 && o->delay_ms >= 0 ? o->created_ms + o->delay_ms : -1;

			if (due > 0 && !j)
				j = job_add(b, qi, o->job_id, o->ts_reply);
			if (j && due > 0) {
				j->state = JOB_DELAYED;
				j->ready_ms = due;
				q->n_delayed++;
				if (due < q->next_due_ms)
					q->next_due_ms = due;
			}
		} else if (o->kind == K_ADD_WAIT) {
			q->depth++;
		}
		break;
	}
	case BULLMQ_OP_STARTED:
		ev.attempt = o->attempt;
		ev.wait_ms = o->wait_ms;
		if (j && j->state == JOB_DELAYED) {
			/* Promoted and fetched in one go: it never counted as waiting. */
			if (q->n_delayed > 0)
				q->n_delayed--;
		} else {
			if (j && j->state == JOB_WAITING && ev.wait_ms < 0 && j->ready_ms > 0 &&
			    o->app_ms > 0)
				ev.wait_ms = o->app_ms - j->ready_ms;
			if (!j && q->depth == 0 && o->job_id[0])
				owed_put(q, o->job_id);
			else if (!j || j->state != JOB_ACTIVE)
				depth_dec(q);
		}
		if (ev.wait_ms < -1)
			ev.wait_ms = 0;	/* producer and worker clocks differ slightly */
		if (!j)
			j = job_add(b, qi, o->job_id, o->ts_reply);
		if (j && j->state == JOB_ACTIVE && j->attempt && o->attempt > j->attempt) {
			/* its previous attempt's end is still to be read */
			j->next_attempt = o->attempt;
			j->next_processed_ms = o->app_ms;
			j->next_start_ns = o->ts_reply;
		} else if (j) {
			if (j->state != JOB_ACTIVE)
				q->active++;
			j->state = JOB_ACTIVE;
			j->processed_ms = o->app_ms;
			j->start_ns = o->ts_reply;
			j->attempt = o->attempt;
			j->next_attempt = 0;
		} else if (o->job_id[0]) {
			b->stats.jobs_untracked++;
		}
		break;
	case BULLMQ_OP_COMPLETED:
	case BULLMQ_OP_FAILED:
	case BULLMQ_OP_REMOVED:
		if (o->op != BULLMQ_OP_REMOVED)
			attempt_end(b, q, j, o, &ev);
		else if (j)
			queue_job_gone(b, j);
		if (j)
			job_del(b, j);
		break;
	case BULLMQ_OP_RETRIED:
		attempt_end(b, q, j, o, &ev);
		if (j && j->next_attempt) {
			/* already fetched again: the start read early takes over */
			j->state = JOB_ACTIVE;
			j->attempt = j->next_attempt;
			j->processed_ms = j->next_processed_ms;
			j->start_ns = j->next_start_ns;
			j->next_attempt = 0;
			q->active++;
			break;
		}
		if (!j)
			j = job_add(b, qi, o->job_id, o->ts_reply);
		if (j) {
			if (j->state == JOB_DELAYED && q->n_delayed > 0)
				q->n_delayed--;
			if (o->kind == K_RETRY_DELAYED && o->app_ms > 0 && o->delay_ms >= 0) {
				j->state = JOB_DELAYED;
				j->ready_ms = o->app_ms + o->delay_ms;
				q->n_delayed++;
				if (j->ready_ms < q->next_due_ms)
					q->next_due_ms = j->ready_ms;
			} else {
				j->state = JOB_WAITING;
				j->ready_ms = o->app_ms;
				q->depth++;
			}
		} else if (o->kind != K_RETRY_DELAYED) {
			q->depth++;
		}
		break;
	case BULLMQ_OP_STALLED:
		if (j)
			queue_job_gone(b, j);
		else
			j = job_add(b, qi, o->job_id, o->ts_reply);
		if (j) {
			j->state = JOB_WAITING;
			j->ready_ms = o->app_ms;
		}
		q->depth++;
		break;
	case BULLMQ_OP_COUNTS: {
		bool wait_asked = o->counts[BULLMQ_ST_WAIT] >= 0;

		for (int s = 0; s < BULLMQ_ST__MAX; s++)
			if (o->counts[s] >= 0)
				q->counts[s] = o->counts[s];
		if (wait_asked) {
			q->depth = o->counts[BULLMQ_ST_WAIT];
			if (o->counts[BULLMQ_ST_PRIORITIZED] > 0)
				q->depth += o->counts[BULLMQ_ST_PRIORITIZED];
			if (o->counts[BULLMQ_ST_PAUSED] > 0)
				q->depth += o->counts[BULLMQ_ST_PAUSED];
			q->anchored = true;
		}
		ev.counts = o->counts;
		break;
	}
	case OPI_ANCHOR_EMPTY:
		q->depth = 0;
		q->anchored = true;
		return;
	case OPI_META:
		copy_str(q->version, sizeof(q->version), o->reason, strlen(o->reason));
		return;
	default:
		return;
	}
	emit(b, q, o, &ev);
}

static void submit(struct bullmq *b, struct op *o, uint64_t epoch)
{
	if (!epoch) {
		apply(b, o);
		return;
	}
	if (b->nstaged >= b->lim.max_staged) {
		b->stats.staged_dropped++;
		return;
	}
	o->epoch = epoch;
	b->staged[b->nstaged++] = *o;
}

void bullmq__confirm(struct bullmq *b, uint64_t epoch)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < b->nstaged; i++) {
		if (b->staged[i].epoch == epoch)
			apply(b, &b->staged[i]);
		else
			b->staged[k++] = b->staged[i];
	}
	b->nstaged = k;
}

void bullmq__refute(struct bullmq *b, uint64_t epoch)
{
	uint32_t k = 0;

	for (uint32_t i = 0; i < b->nstaged; i++) {
		if (b->staged[i].epoch == epoch)
			b->stats.refuted_ops++;
		else
			b->staged[k++] = b->staged[i];
	}
	b->nstaged = k;
}

static void op_init(struct op *o, const struct bullmq_call *call, int op, uint64_t ts_req,
		    uint64_t ts_reply)
{
	memset(o, 0, sizeof(*o));
	o->op = (uint8_t)op;
	o->ts_req = ts_req;
	o->ts_reply = ts_reply;
	o->app_ms = call->ts_ms;
	o->created_ms = call->created_ms;
	o->delay_ms = call->delay_ms;
	o->wait_ms = -1;
	memcpy(o->base, call->base, sizeof(o->base));
	memcpy(o->job_id, call->job_id, sizeof(o->job_id));
	memcpy(o->reason, call->reason, sizeof(o->reason));
	for (int s = 0; s < BULLMQ_ST__MAX; s++)
		o->counts[s] = -1;
}

static bool view_int(const struct resp_view *v, int64_t *out)
{
	return resp_item_int(v->f, resp_view_item(v), out);
}

/* A moveToActive-shaped reply: [jobHash, jobId, limitUntil, delayUntil]. */
static bool started_from_reply(struct bullmq *b, const struct bullmq_call *call,
			       const struct resp_view *reply, uint64_t ts_req, uint64_t ts_reply,
			       uint64_t epoch)
{
	const struct resp_item *t = resp_view_item(reply), *h;
	struct resp_view hv, idv;
	int64_t ts = -1, processed = -1, ats = 0, atm = -1, delay = -1;
	bool delay_known = false;
	struct op o;

	if (!is_arr(t) || t->len < 2 || !resp_view_child(reply, 0, &hv))
		return false;
	h = resp_view_item(&hv);
	if (!h || !(h->type == '*' || h->type == '%') || h->len < 2)
		return false;
	op_init(&o, call, BULLMQ_OP_STARTED, ts_req, ts_reply);
	o.job_id[0] = '\0';
	o.reason[0] = '\0';
	o.delay_ms = -1;
	if (resp_view_child(reply, 1, &idv)) {
		const struct resp_item *id = resp_view_item(&idv);

		if (id && id->type == '$' && !(id->flags & (RESP_IF_PART | RESP_IF_NULL)) &&
		    id->kept < BULLMQ_ID_MAX)
			resp_item_copy(reply->f, id, o.job_id, sizeof(o.job_id));
	}
	for (uint32_t k = 0; k + 1 < (uint32_t)h->len && k < 256; k += 2) {
		struct resp_view kv, vv;
		const struct resp_item *ki, *vi;
		const struct resp_frame *f = reply->f;

		if (!resp_view_child(&hv, k, &kv) || !resp_view_child(&hv, k + 1, &vv))
			break;
		ki = resp_view_item(&kv);
		vi = resp_view_item(&vv);
		if (resp_item_eq(f, ki, "timestamp"))
			view_int(&vv, &ts);
		else if (resp_item_eq(f, ki, "processedOn"))
			view_int(&vv, &processed);
		else if (resp_item_eq(f, ki, "ats"))
			view_int(&vv, &ats);
		else if (resp_item_eq(f, ki, "attemptsMade"))
			view_int(&vv, &atm);
		else if (resp_item_eq(f, ki, "opts") && vi && vi->type == '$') {
			size_t n;
			const uint8_t *s = resp_item_data(f, vi, &n);
			int r = json_top_int(s, n, !(vi->flags & RESP_IF_PART), "delay", &delay);

			delay_known = r >= 0;
			if (r == 0)
				delay = 0;
		}
	}
	if (ats <= 0 && atm > 0)
		ats = atm;	/* 4.x counts attemptsMade at the start */
	o.attempt = ats > 0 ? (uint32_t)ats : 0;
	o.app_ms = processed;
	o.delay_ms = delay_known ? delay : -1;
	if (o.attempt <= 1 && ts > 0 && processed > 0 && delay_known)
		o.wait_ms = processed - ts - delay;
	submit(b, &o, epoch);
	return true;
}

void bullmq__on_reply(struct bullmq *b, const struct bullmq_call *call,
		      const struct resp_view *reply, uint64_t ts_req_ns, uint64_t ts_reply_ns,
		      uint64_t epoch)
{
	const struct resp_item *t = reply ? resp_view_item(reply) : NULL;
	int64_t v = 0;
	bool ok_int = t && t->type == ':' && t->ival >= 0;
	bool ok = ok_int || is_arr(t);
	struct op o;

	if (call->script <= BULLMQ_S_UNKNOWN || !t || is_err(t))
		return;
	/* The request's own "now" ties the app clock to the capture clock. */
	if (call->ts_ms > 0 && (call->script == BULLMQ_S_MOVE_TO_ACTIVE ||
				call->script == BULLMQ_S_MOVE_TO_FINISHED ||
				call->script == BULLMQ_S_MOVE_TO_DELAYED ||
				call->script == BULLMQ_S_RETRY_JOB ||
				call->script == BULLMQ_S_MOVE_STALLED)) {
		b->clock_off_ms = call->ts_ms - (int64_t)(ts_req_ns / 1000000);
		b->clock_known = true;
	}
	switch (call->script) {
	case BULLMQ_S_ADD_STANDARD:
	case BULLMQ_S_ADD_PRIORITIZED:
	case BULLMQ_S_ADD_DELAYED:
	case BULLMQ_S_ADD_PARENT:
		op_init(&o, call, BULLMQ_OP_ADDED, ts_req_ns, ts_reply_ns);
		o.reason[0] = '\0';
		if (t->type == '$' && !(t->flags & (RESP_IF_NULL | RESP_IF_PART)) &&
		    t->kept > 0 && t->kept < BULLMQ_ID_MAX)
			resp_item_copy(reply->f, t, o.job_id, sizeof(o.job_id));
		else if (t->type == ':' && t->ival > 0)
			snprintf(o.job_id, sizeof(o.job_id), "%lld", (long long)t->ival);
		else
			return;
		o.custom_id = (call->flags & BULLMQ_CF_CUSTOM_ID) != 0;
		o.dedup = (call->flags & BULLMQ_CF_DEDUP) != 0;
		o.kind = call->script == BULLMQ_S_ADD_DELAYED ? K_ADD_DELAYED :
			 call->script == BULLMQ_S_ADD_PARENT ? K_ADD_PARENT : K_ADD_WAIT;
		submit(b, &o, epoch);
		return;
	case BULLMQ_S_MOVE_TO_ACTIVE:
		if (started_from_reply(b, call, reply, ts_req_ns, ts_reply_ns, epoch))
			return;
		/* [0, 0, limitUntil, delayUntil]: nothing waiting, unless rate limited. */
		if (is_arr(t) && t->len >= 3) {
			struct resp_view c0, c2;
			int64_t a = -1, lim = -1;

			if (resp_view_child(reply, 0, &c0) && resp_view_child(reply, 2, &c2) &&
			    view_int(&c0, &a) && view_int(&c2, &lim) && a == 0 && lim == 0) {
				op_init(&o, call, OPI_ANCHOR_EMPTY, ts_req_ns, ts_reply_ns);
				submit(b, &o, epoch);
			}
		}
		return;
	case BULLMQ_S_MOVE_TO_FINISHED:
		if (!ok)
			return;
		op_init(&o, call, (call->flags & BULLMQ_CF_FAILED) ? BULLMQ_OP_FAILED :
								      BULLMQ_OP_COMPLETED,
			ts_req_ns, ts_reply_ns);
		o.delay_ms = -1;
		submit(b, &o, epoch);
		started_from_reply(b, call, reply, ts_req_ns, ts_reply_ns, epoch);
		return;
	case BULLMQ_S_MOVE_TO_DELAYED:
	case BULLMQ_S_RETRY_JOB:
		if (!ok)
			return;
		if (!(call->flags & BULLMQ_CF_SKIP_ATTEMPT)) {
			op_init(&o, call, BULLMQ_OP_RETRIED, ts_req_ns, ts_reply_ns);
			o.kind = call->script == BULLMQ_S_MOVE_TO_DELAYED ? K_RETRY_DELAYED :
									    K_RETRY_NOW;
			submit(b, &o, epoch);
		}
		started_from_reply(b, call, reply, ts_req_ns, ts_reply_ns, epoch);
		return;
	case BULLMQ_S_MOVE_STALLED: {
		struct resp_view list = *reply, c0;
		const struct resp_item *c0i;

		if (!is_arr(t))
			return;
		/* 4.x: [[failed ids], [stalled ids]]; later: [stalled ids]. */
		if (resp_view_child(reply, 0, &c0) && (c0i = resp_view_item(&c0)) && is_arr(c0i)) {
			for (uint32_t i = 0; i < (uint32_t)c0i->len; i++) {
				struct resp_view e;

				if (!resp_view_child(&c0, i, &e))
					break;
				op_init(&o, call, BULLMQ_OP_FAILED, ts_req_ns, ts_reply_ns);
				resp_item_copy(reply->f, resp_view_item(&e), o.job_id, sizeof(o.job_id));
				snprintf(o.reason, sizeof(o.reason), "stalled");
				submit(b, &o, epoch);
			}
			if (!resp_view_child(reply, 1, &list))
				return;
		}
		t = resp_view_item(&list);
		for (uint32_t i = 0; t && is_arr(t) && i < (uint32_t)t->len; i++) {
			struct resp_view e;
			const struct resp_item *ei;

			if (!resp_view_child(&list, i, &e))
				break;
			ei = resp_view_item(&e);
			if (!ei || ei->type != '$' || (ei->flags & (RESP_IF_PART | RESP_IF_NULL)))
				continue;
			op_init(&o, call, BULLMQ_OP_STALLED, ts_req_ns, ts_reply_ns);
			resp_item_copy(reply->f, ei, o.job_id, sizeof(o.job_id));
			o.delay_ms = -1;
			submit(b, &o, epoch);
		}
		return;
	}
	case BULLMQ_S_GET_COUNTS:
		if (!is_arr(t) || t->len != call->nstates)
			return;
		op_init(&o, call, BULLMQ_OP_COUNTS, ts_req_ns, ts_reply_ns);
		o.delay_ms = -1;
		o.job_id[0] = '\0';
		for (uint32_t i = 0; i < call->nstates; i++) {
			struct resp_view e;

			if (!resp_view_child(reply, i, &e) || !view_int(&e, &v) || v < 0)
				return;
			if (call->states[i] < BULLMQ_ST__MAX)
				o.counts[call->states[i]] = v;
		}
		submit(b, &o, epoch);
		return;
	case BULLMQ_S_REMOVE_JOB:
		if (!ok_int || t->ival != 1)
			return;
		op_init(&o, call, BULLMQ_OP_REMOVED, ts_req_ns, ts_reply_ns);
		o.delay_ms = -1;
		submit(b, &o, epoch);
		return;
	case BULLMQ_S_META:
		op_init(&o, call, OPI_META, ts_req_ns, ts_reply_ns);
		submit(b, &o, epoch);
		return;
	default:
		return;
	}
}
