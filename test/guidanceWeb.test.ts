import { startServer, WebUser } from './support/harness';

describe('the guidance flows on the real web chat (HTTP)', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    server = await startServer({ REDIS_URL: '' });
  });
  afterAll(async () => {
    await server.close();
  });

  async function person(): Promise<WebUser> {
    const u = new WebUser(server.url);
    await u.start();
    await u.say('1');
    await u.say('ban pho');
    return u;
  }

  it('installs the app end to end and the district figure counts the person once', async () => {
    const u = await person();
    const menu = await u.say('menu');
    const number = /(\d+)\. Cài ứng dụng Bluezone/.exec(menu)?.[1];
    expect(number).toBeDefined();
    await u.say(number!);
    expect(await u.tap('phone:android')).toContain('CH Play');
    expect(await u.tap('after:installed')).toContain('Đã ghi nhận cho Xã Bản Phố');
    expect(await u.tap('official:none')).toContain('khai báo y tế');
    await u.tap('declared:yes');
    await u.say('cai bluezone');
    await u.say('1');
    expect(await u.say('1')).toContain('đã báo cài');
    expect(await server.runtime.campaign.countInstalls()).toEqual({ 'ban-pho': 1 });
    // "Delete my data" drops the person, not the district's figure.
    await server.runtime.personalData.eraseUser('web', u.userId);
    expect(await server.runtime.campaign.countInstalls()).toEqual({ 'ban-pho': 1 });
  });

  it('scans a QR code, searches a public service and reads epidemic information', async () => {
    const u = await person();
    expect(await u.say('quet ma qr')).toContain('Anh/Chị muốn biết gì?');
    expect(await u.say('3')).toContain('Mở Zalo');
    await u.say('menu');
    await u.say('dich vu cong');
    await u.say('1');
    expect(await u.say('xac nhan doc than')).toContain('1. Cấp giấy xác nhận tình trạng hôn nhân');
    expect(await u.say('1')).toContain('Xem giấy tờ cần chuẩn bị');
    await u.say('menu');
    await u.say('thong tin dich');
    await u.say('5'); // the nearest station (no areas are listed in the file, so that item is hidden)
    const far = await u.send({ type: 'location', latitude: 10.77, longitude: 106.7 });
    expect(far).toContain('ở ngoài huyện');
    const near = await u.send({ type: 'location', latitude: 22.53, longitude: 104.29 });
    expect(near).toContain('Trạm Y tế xã Bản Phố');
  });

  it('offers two guesses for an unclear message and takes a tap on one', async () => {
    const u = await person();
    expect(await u.say('lien he ve dich benh')).toContain('Có phải Anh/Chị muốn hỏi về việc này?');
    expect(await u.tap('$:go:contacts')).toContain('1900 9095');
  });
});
